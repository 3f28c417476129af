"""broadcasts: the subject of the event that caused one (an incident's id), who sent a notice

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:20:00

So the workbench's incident page finds the broadcasts that told the estate's households
(declared, each update, resolved); a notice records who sent it (a key or a person at the
workbench). Broadcasts made before this have neither.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=160), nullable=True))
        batch_op.create_index("ix_broadcasts_tenant_subject", ["tenant", "subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_tenant_subject")
        batch_op.drop_column("created_by")
        batch_op.drop_column("subject")
