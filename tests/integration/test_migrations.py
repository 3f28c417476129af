"""Every service's migrations, applied from empty, give exactly the tables its models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from services.common.config import SERVICES
from services.common.db import make_engine
from services.common.migrate import alembic_config
from services.common.topology import service_class

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(platform, service):
    """`platform` migrated each database from empty (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    base = __import__(f"services.{service}.models", fromlist=["Base"]).Base
    engine = make_engine(platform.database_urls[service])
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": f"alembic_version_{service}"}
        )
        diff = compare_metadata(context, base.metadata)
        version = context.get_current_revision()
    engine.dispose()
    assert diff == []
    assert (
        version
        == ScriptDirectory.from_config(alembic_config(service, platform.database_urls[service])).get_current_head()
    )
    assert service_class(service).name == service
