"""webhook management: secret rotation, each delivery's last HTTP status and attempt time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:40:00

Error texts already stored may carry what a socket said (issue 18); the API shows only
generic texts (``webhooks.public_error``), so the rows need no rewrite here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_expires_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_webhook_deliveries_subscription", ["subscription_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_subscription")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("response_status")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret")
