"""The query every statistics table of a company takes: groups, a month range, one estate.

One schema for the survey figures (months of issue) and the case figures (months of creation),
so the workbench's statistics page sends the same query to both and reads errors alike.
Months are Asia/Shanghai calendar months, as people in the estates count them.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="月份格式为 YYYY-MM (month as YYYY-MM)")
GROUPINGS = ("estate", "category", "assignee", "month")
GROUPING = validate.OneOf(GROUPINGS, error="请选择分组 (one of estate, category, assignee, month)")


class GroupedQuerySchema(Schema):
    """Which groups, over which months (Asia/Shanghai), of which estate."""

    class Meta:
        unknown = EXCLUDE

    group_by = fields.List(
        fields.String(validate=GROUPING),
        load_default=list,
        validate=validate.Length(max=len(GROUPINGS)),
        metadata={"description": "any of estate, category, assignee, month"},
    )
    from_month = fields.String(load_default=None, validate=MONTH, data_key="from")
    to_month = fields.String(load_default=None, validate=MONTH, data_key="to")
    estate_id = fields.String(load_default=None, validate=validate.Length(max=36))
