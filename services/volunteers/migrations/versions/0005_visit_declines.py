"""why each decline of a visit happened ({volunteer_id, reason, at}): the reason was asked and lost

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("declines", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("declines")
