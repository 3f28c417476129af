"""each survey's rating of a case, so a voided answer's rating can be taken back

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:40:00

A rating recorded before this table existed is kept as one row whose survey id is the case's
own id (no survey has that id), answered when the case last changed: the newest rating still
wins, and voiding a later answer shows it again.
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
        "case_ratings",
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("survey_id"),
    )
    op.create_index(op.f("ix_case_ratings_case_id"), "case_ratings", ["case_id"], unique=False)
    op.execute(
        "INSERT INTO case_ratings (survey_id, case_id, score, verified, answered_at)"
        " SELECT id, id, rating, rating_verified, updated_at FROM cases WHERE rating IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_ratings_case_id"), table_name="case_ratings")
    op.drop_table("case_ratings")
