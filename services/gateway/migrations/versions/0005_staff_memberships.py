"""staff memberships: people who work a company's cases (or a community's) in the workbench

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_memberships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("community", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_memberships_person_id", "staff_memberships", ["person_id"], unique=False)
    op.create_index("ix_staff_memberships_tenant_id", "staff_memberships", ["tenant_id"], unique=False)
    op.create_index("ix_staff_memberships_community", "staff_memberships", ["community"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_staff_memberships_community", table_name="staff_memberships")
    op.drop_index("ix_staff_memberships_tenant_id", table_name="staff_memberships")
    op.drop_index("ix_staff_memberships_person_id", table_name="staff_memberships")
    op.drop_table("staff_memberships")
