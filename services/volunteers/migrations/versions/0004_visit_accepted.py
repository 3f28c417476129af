"""a visit's accepted_at (the assigned volunteer has said they will make it); volunteers by phone

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

The volunteer's own pages (GET /v) let the assigned volunteer accept a visit, so staff can
tell a visit someone has taken on from one nobody has looked at yet. Null for every visit
written before: none of them was accepted. Those pages also find, on every request, each
company the signed-in phone volunteers for: an index on the phone alone (the unique
constraint leads with the tenant).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
    op.create_index("ix_volunteers_phone", "volunteers", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_volunteers_phone", table_name="volunteers")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("accepted_at")
