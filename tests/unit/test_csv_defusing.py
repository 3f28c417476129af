"""CSV export: no cell a spreadsheet would evaluate as a formula (Excel, WPS, LibreOffice)."""

import csv
import io

import pytest

from services.requests.export import defuse, to_csv

pytestmark = pytest.mark.unit

DANGEROUS = (
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",  # full-width equals, as a Chinese input method types it
    "＋1",
    "－1",
    "＠SUM(A1)",
    " =1+1",
    "\u3000=1+1",  # an ideographic space first
    ";=1+1",  # ; is the list separator of many locales
    ",=1+1",
    '=HYPERLINK("http://x")',
)
HARMLESS = ("楼道灯不亮", "3-2-501", "1+1=2", "a=b", "", "'=already quoted")


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_a_spreadsheet_would_evaluate_is_kept_as_text(text):
    assert defuse(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_exported_exactly(text):
    assert defuse(text) == text


def test_every_exported_cell_is_quoted_so_no_separator_inside_a_cell_splits_it():
    text = "".join(to_csv(iter([{"id": "1", "title": "漏水;=1+1, 真的"}])))
    header, row = text.splitlines()
    assert row.startswith('"1",') and '"漏水;=1+1, 真的"' in row
    assert next(csv.DictReader(io.StringIO(text)))["title"] == "漏水;=1+1, 真的"
