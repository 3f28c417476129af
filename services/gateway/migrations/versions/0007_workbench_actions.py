"""workbench actions: every change made at the workbench, with the person who made it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workbench_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("community", sa.String(length=100), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_workbench_actions_tenant_at", "workbench_actions", ["tenant_id", "at"], unique=False)
    op.create_index("ix_workbench_actions_community_at", "workbench_actions", ["community", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_workbench_actions_community_at", table_name="workbench_actions")
    op.drop_index("ix_workbench_actions_tenant_at", table_name="workbench_actions")
    op.drop_table("workbench_actions")
