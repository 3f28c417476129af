"""Alembic environment of the notifications service (see services.common.migrate)."""

from alembic import context

from services.common.migrate import run_env
from services.notifications.models import Base

run_env(context, Base.metadata)
