"""the queue's running counts per status, its search bigrams, and two indexes its counts need

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:45:00

Both new tables are filled from the cases already there: the counts by one GROUP BY, the bigrams
case by case (the same function the service writes them with, so a migrated database searches
exactly like a new one).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def upgrade() -> None:
    from services.requests.bigrams import rows  # the service's own definition of a case's bigrams

    op.create_index("ix_cases_tenant_created", "cases", ["tenant", "created_at", "status"], unique=False)
    op.create_index("ix_cases_tenant_escalation", "cases", ["tenant", "escalation_level", "status"], unique=False)
    counts = op.create_table(
        "case_status_counts",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "status"),
    )
    found = op.create_table(
        "case_bigrams",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("bigram", sa.String(length=2), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "bigram", "case_id"),
    )
    bind = op.get_bind()
    tallied = bind.execute(sa.text("SELECT tenant, status, COUNT(*) FROM cases GROUP BY tenant, status")).all()
    if tallied:
        op.bulk_insert(counts, [{"tenant": t, "status": s, "count": n} for t, s, n in tallied])
    pending: list[dict] = []
    for tenant, case_id, title, description in bind.execute(
        sa.text("SELECT tenant, id, title, description FROM cases ORDER BY id")
    ).all():
        pending.extend(rows(tenant, case_id, title, description))
        if len(pending) >= BATCH:
            op.bulk_insert(found, pending)
            pending = []
    if pending:
        op.bulk_insert(found, pending)


def downgrade() -> None:
    op.drop_table("case_bigrams")
    op.drop_table("case_status_counts")
    op.drop_index("ix_cases_tenant_escalation", table_name="cases")
    op.drop_index("ix_cases_tenant_created", table_name="cases")
