"""verified answers: who answered (the community's confirmed household member, or nobody known) and
tallies that keep unverified answers apart from the ones the public league counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWER_COUNTS = (
    "responses",
    "satisfied",
    "score_sum",
    "nps_responses",
    "promoters",
    "detractors",
    "ces_responses",
    "ces_sum",
    "low_scores",
    "reopened",
    "flagged",
)
FLAGGED = ("flagged_satisfied", "flagged_score_sum", "flagged_nps_responses", "flagged_promoters", "flagged_detractors")


def upgrade() -> None:
    """Every answer given so far came through a link nobody vouched for: it moves to the unverified counters.

    The public league therefore starts empty and fills with verified answers (see README, Households).
    """
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("verified_phone_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("survey_tallies", schema=None) as batch_op:
        for name in ANSWER_COUNTS:
            batch_op.add_column(sa.Column(f"unverified_{name}", sa.Integer(), nullable=False, server_default="0"))
    moved = ", ".join(f"unverified_{name} = {name}" for name in ANSWER_COUNTS)
    cleared = ", ".join(f"{name} = 0" for name in (*ANSWER_COUNTS, *FLAGGED))
    op.execute(f"UPDATE survey_tallies SET {moved}, {cleared}")


def downgrade() -> None:
    """Unverified answers count again as before."""
    added = ", ".join(f"{name} = {name} + unverified_{name}" for name in ANSWER_COUNTS)
    op.execute(f"UPDATE survey_tallies SET {added}")
    with op.batch_alter_table("survey_tallies", schema=None) as batch_op:
        for name in ANSWER_COUNTS:
            batch_op.drop_column(f"unverified_{name}")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("verified_phone_hash")
        batch_op.drop_column("verified")
