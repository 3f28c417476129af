"""Alembic environment of the gateway service (see services.common.migrate)."""

from alembic import context

from services.common.migrate import run_env
from services.gateway.models import Base

run_env(context, Base.metadata)
