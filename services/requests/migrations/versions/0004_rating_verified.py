"""whether a case's rating came from a resident the community confirmed in the household

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:50:00

The public board shows only such ratings. Ratings recorded before were never vouched for
(as the surveys service's migration 0003 says of their answers), so they start as false.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("rating_verified", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("rating_verified")
