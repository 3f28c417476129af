"""the case's reopen count at the closure that issued a survey

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:45:00

A reopen touches only the surveys of closures before it (services/surveys/voiding.py). Surveys
issued before this column existed keep NULL: every reopen of their case concerns them, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("closure_reopen_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("closure_reopen_count")
