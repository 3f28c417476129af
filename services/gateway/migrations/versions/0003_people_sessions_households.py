"""people who sign in (one-time codes, server-side sessions) and the community's household register

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_table(
        "sign_in_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_codes_phone_created", "sign_in_codes", ["phone", "created_at"], unique=False)
    op.create_table(
        "person_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("app_key_id", sa.String(length=36), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_person_sessions_person_id", "person_sessions", ["person_id"], unique=False)
    op.create_table(
        "household_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("estate_id", sa.String(length=64), nullable=False),
        sa.Column("household", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("estate_id", "household", "phone", name="uq_household_members"),
    )
    op.create_index("ix_household_members_community", "household_members", ["community"], unique=False)
    op.create_index("ix_household_members_phone", "household_members", ["phone"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_household_members_phone", table_name="household_members")
    op.drop_index("ix_household_members_community", table_name="household_members")
    op.drop_table("household_members")
    op.drop_index("ix_person_sessions_person_id", table_name="person_sessions")
    op.drop_table("person_sessions")
    op.drop_index("ix_sign_in_codes_phone_created", table_name="sign_in_codes")
    op.drop_table("sign_in_codes")
    op.drop_table("people")
