"""survey templates, tenant timing, many tokens per survey, answers' extra scores, statistics index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "issued",
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
    "flagged_satisfied",
    "flagged_score_sum",
    "flagged_nps_responses",
    "flagged_promoters",
    "flagged_detractors",
)


def upgrade() -> None:
    """Upgrade schema: existing surveys keep their token (moved to survey_tokens) and count as sent."""
    op.create_table(
        "survey_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("survey_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_tokens_survey_id"), ["survey_id"], unique=False)
    op.execute(
        "INSERT INTO survey_tokens (token_hash, survey_id, purpose, created_at) "
        "SELECT token_hash, id, 'issued', created_at FROM surveys"
    )

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("incident_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("month", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("link_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("link_sent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminder_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminder_sent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("nps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ces", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("flagged_burst", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(created_at + interval '8 hours', 'YYYY-MM')"
    else:
        month = "strftime('%Y-%m', created_at, '+8 hours')"
    op.execute(
        f"UPDATE surveys SET template_version = 0, month = {month}, link_due_at = created_at, "
        "link_sent_at = created_at, flagged_burst = false"
    )

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.alter_column("template_version", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("month", existing_type=sa.String(length=7), nullable=False)
        batch_op.alter_column("link_due_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("flagged_burst", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column("token_hash")
        batch_op.create_index("ix_surveys_tenant_month", ["tenant", "month"], unique=False)
        batch_op.create_index("ix_surveys_link_due", ["status", "link_due_at"], unique=False)
        batch_op.create_index("ix_surveys_reminder_due", ["status", "reminder_due_at"], unique=False)
        batch_op.create_index("ix_surveys_fingerprint", ["fingerprint", "answered_at"], unique=False)
        batch_op.create_index(
            "ix_surveys_incident_household", ["tenant", "incident_id", "respondent_household"], unique=False
        )
        batch_op.create_unique_constraint(
            "uq_surveys_campaign_household", ["campaign_id", "estate_id", "respondent_household"]
        )

    op.create_table(
        "survey_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("speed", sa.Boolean(), nullable=False),
        sa.Column("attitude", sa.Boolean(), nullable=False),
        sa.Column("quality", sa.Boolean(), nullable=False),
        sa.Column("nps", sa.Boolean(), nullable=False),
        sa.Column("ces", sa.Boolean(), nullable=False),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "version", name="uq_survey_templates_tenant_version"),
    )
    op.create_table(
        "survey_campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("estate_ids", sa.JSON(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("survey_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_campaigns_tenant"), ["tenant"], unique=False)
    op.create_table(
        "survey_settings",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("link_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("reminder_after_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )
    op.create_table(
        "survey_tallies",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("estate_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS],
        sa.PrimaryKeyConstraint("tenant", "estate_id", "category", "assignee", "month"),
    )
    with op.batch_alter_table("survey_tallies", schema=None) as batch_op:
        batch_op.create_index("ix_survey_tallies_tenant_month", ["tenant", "month"], unique=False)
    # Existing answers count from the start (same definition as services.surveys.statistics.rebuild).
    op.execute(
        "INSERT INTO survey_tallies (tenant, estate_id, category, assignee, month, issued, responses, satisfied, "
        "score_sum, nps_responses, promoters, detractors, ces_responses, ces_sum, low_scores, reopened, flagged, "
        "flagged_satisfied, flagged_score_sum, flagged_nps_responses, flagged_promoters, flagged_detractors) "
        "SELECT tenant, estate_id, category, '', month, COUNT(*), "
        "SUM(CASE WHEN status = 'answered' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'answered' AND score >= 4 THEN 1 ELSE 0 END), "
        "COALESCE(SUM(CASE WHEN status = 'answered' THEN score END), 0), 0, 0, 0, 0, 0, "
        "SUM(CASE WHEN status = 'answered' AND (score <= 2 OR solved = false) THEN 1 ELSE 0 END), 0, 0, 0, 0, 0, 0, 0 "
        "FROM surveys WHERE status <> 'voided' GROUP BY tenant, estate_id, category, month"
    )
    op.create_table(
        "watermarks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # Seeded here, so two service instances never race to create it.
    op.execute("INSERT INTO watermarks (name, position) VALUES ('outbox_links', 0)")


def downgrade() -> None:
    """Downgrade schema: each survey keeps one of its tokens (the first link's)."""
    op.drop_table("watermarks")
    op.drop_table("survey_tallies")
    op.drop_table("survey_settings")
    with op.batch_alter_table("survey_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_campaigns_tenant"))
    op.drop_table("survey_campaigns")
    op.drop_table("survey_templates")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE surveys SET token_hash = (SELECT MIN(t.token_hash) FROM survey_tokens t "
        "WHERE t.survey_id = surveys.id AND t.purpose = 'issued')"
    )
    op.execute(
        "UPDATE surveys SET token_hash = id WHERE token_hash IS NULL"  # never sent: no link to keep
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        for index in (
            "ix_surveys_incident_household",
            "ix_surveys_fingerprint",
            "ix_surveys_reminder_due",
            "ix_surveys_link_due",
            "ix_surveys_tenant_month",
        ):
            batch_op.drop_index(index)
        batch_op.drop_constraint("uq_surveys_campaign_household", type_="unique")
        batch_op.alter_column("token_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_surveys_token_hash", ["token_hash"])
        for column in (
            "reopened_at",
            "flagged_burst",
            "fingerprint",
            "ces",
            "nps",
            "reminder_sent_at",
            "reminder_due_at",
            "link_sent_at",
            "link_due_at",
            "month",
            "template_version",
            "campaign_id",
            "incident_id",
            "assignee",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("survey_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_tokens_survey_id"))
    op.drop_table("survey_tokens")
