"""Alembic environment of the surveys service (see services.common.migrate)."""

from alembic import context

from services.common.migrate import run_env
from services.surveys.models import Base

run_env(context, Base.metadata)
