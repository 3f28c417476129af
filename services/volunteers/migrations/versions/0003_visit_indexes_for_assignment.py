"""indexes for the assignment rule and the overdue sweep; every assigned visit has assigned_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:15:00

Before, each closure counted every visit the tenant ever had three times (at 100,000 visits:
1,016 ms per closure on SQLite, 154 ms on PostgreSQL; now 26 and 13 ms, see
``bench/visit_assignment.py``). The rule now reads index ranges, and relies on ``assigned_at`` being
set whenever ``volunteer_id`` is: true of every visit written since 0002, and backfilled here
for any written before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_visits_tenant_status", ["tenant", "status", "volunteer_id"]),
    ("ix_visits_tenant_assigned", ["tenant", "assigned_at"]),
    ("ix_visits_volunteer_assigned", ["volunteer_id", "assigned_at"]),
    ("ix_visits_status_due", ["status", "due_at"]),
)


def upgrade() -> None:
    op.execute(
        sa.text("UPDATE visits SET assigned_at = created_at WHERE volunteer_id IS NOT NULL AND assigned_at IS NULL")
    )
    for name, columns in INDEXES:
        op.create_index(name, "visits", columns)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="visits")
