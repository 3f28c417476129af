"""Alembic environment of the requests service (see services.common.migrate)."""

from alembic import context

from services.common.migrate import run_env
from services.requests.models import Base

run_env(context, Base.metadata)
