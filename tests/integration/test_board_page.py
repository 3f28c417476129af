"""The public board (向业主晒事): JSON for the company, a public page for the estate; never a
reporter's name or phone, the household as its building only."""

import pytest

pytestmark = pytest.mark.integration


def test_the_board_shows_resolved_cases_as_json_and_as_a_public_page(platform, company, second_company):
    shown = company.case(company.estate_id, phone="13912370001", household="7-2-1101", title="单元门禁坏了")
    company.close(shown["id"])
    company.case(company.estate_id, phone="13912370002", title="还没处理的诉求")
    board = company.get(f"/api/v1/estates/{company.estate_id}/board").json()
    assert board["estate_name"] == "东方现代城"
    [entry] = board["data"]
    assert entry["case_id"] == shown["id"]
    assert (entry["building"], entry["category_name"], entry["resolution"]) == ("7号楼", "水电维修", "已更换灯泡")
    assert entry["satisfaction"] is None
    assert "陈先生" not in str(board) and "13912370001" not in str(board) and "1101" not in str(board)
    assert second_company.get(f"/api/v1/estates/{company.estate_id}/board").status_code == 404

    page = platform.http.get(platform.base_url + f"/p/estates/{company.estate_id}/board")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "东方现代城 · 办事公示" in page.text
    assert "单元门禁坏了" in page.text and "7号楼" in page.text and "处理结果：已更换灯泡" in page.text
    assert "还没处理的诉求" not in page.text
    for secret in ("陈先生", "13912370001", "7-2-1101", "<script"):
        assert secret not in page.text

    missing = platform.http.get(platform.base_url + "/p/estates/nope/board")
    assert missing.status_code == 404 and "没有找到这个小区" in missing.text
    invalid = platform.http.get(platform.base_url + f"/p/estates/{company.estate_id}/board?limit=0")
    assert invalid.status_code == 422 and "链接参数不正确" in invalid.text


def test_the_page_escapes_what_residents_wrote(platform, company):
    case = company.case(company.estate_id, phone="13912370003", title="<script>alert(1)</script>")
    company.close(case["id"])
    page = platform.http.get(platform.base_url + f"/p/estates/{company.estate_id}/board")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
