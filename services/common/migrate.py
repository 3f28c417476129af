"""Alembic per service: each service's own migrations and its own version table."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from services.common.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / service / "migrations"))
    config.attributes["url"] = url
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def run_env(context: object, metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config  # type: ignore[attr-defined]
    service = config.attributes.get("service") or Path(config.get_main_option("script_location")).parent.name
    url = config.attributes.get("url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(  # type: ignore[attr-defined]
            connection=connection,
            target_metadata=metadata,
            version_table=f"alembic_version_{service}",
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():  # type: ignore[attr-defined]
            context.run_migrations()  # type: ignore[attr-defined]
    engine.dispose()
