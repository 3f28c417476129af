"""Alembic environment of the volunteers service (see services.common.migrate)."""

from alembic import context

from services.common.migrate import run_env
from services.volunteers.models import Base

run_env(context, Base.metadata)
