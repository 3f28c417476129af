"""idempotent requests: forget the answers kept before the scope was the caller and secrets were withheld

Rows kept until now were scoped by the raw credential (or the bare path, for Open311 and
unauthenticated posts), so none will match a request again; and some hold a working API key,
a webhook's ``whsec_`` secret or a resident's token in clear. Nothing else changes in the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM idempotent_requests"))


def downgrade() -> None:
    pass  # the forgotten answers are not coming back, and were unusable anyway
