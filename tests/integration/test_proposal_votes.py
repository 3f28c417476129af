"""Owners' proposals over HTTP: a voting window, one vote per household, the result at closing."""

from datetime import timedelta

import pytest

from services.common.db import utcnow
from services.requests import proposals

pytestmark = pytest.mark.integration


def test_a_proposal_takes_one_vote_per_household_and_counts_when_the_window_closes(platform, company, second_company):
    closes = (utcnow() + timedelta(days=7)).isoformat() + "Z"
    created = company.post(
        "/api/v1/proposals",
        {
            "estate_id": company.estate_id,
            "title": "安装电动车充电桩",
            "description": "地下车库B区",
            "closes_at": closes,
        },
    )
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert (proposal["status"], proposal["tally"], proposal["outcome"]) == (
        "open",
        {"support": 0, "oppose": 0, "abstain": 0},
        None,
    )
    votes = f"/api/v1/proposals/{proposal['id']}/votes"
    for household, choice in (("3-2-501", "support"), ("3-2-502", "oppose"), ("5-1-101", "support")):
        answer = company.post(votes, {"household": household, "choice": choice})
        assert answer.status_code == 201, answer.text
        assert answer.json()["household"] == household
    again = company.post(votes, {"household": "3-2-501", "choice": "oppose"})
    assert again.status_code == 409
    assert again.json()["detail"] == "household 3-2-501 has already voted"
    bad = company.post(votes, {"household": "楼下", "choice": "maybe"})
    assert sorted(bad.json()["errors"]) == ["choice", "household"]
    assert second_company.post(votes, {"household": "1-1-101", "choice": "support"}).status_code == 404
    assert second_company.get(f"/api/v1/proposals/{proposal['id']}").status_code == 404
    assert company.get(f"/api/v1/proposals/{proposal['id']}").json()["tally"] == {
        "support": 2,
        "oppose": 1,
        "abstain": 0,
    }
    too_long = company.post(
        "/api/v1/proposals",
        {"estate_id": company.estate_id, "title": "x", "description": "y", "closes_at": "2099-01-01T00:00:00Z"},
    )
    assert list(too_long.json()["errors"]) == ["closes_at"]

    # The timer's work, run as the timer runs it, a week on: closed once, with the result.
    emitted = []
    with platform.store("requests").transaction() as session:
        closed = proposals.close_due(session, lambda *event: emitted.append(event), utcnow() + timedelta(days=8))
    assert closed == 1
    with platform.store("requests").transaction() as session:
        assert proposals.close_due(session, lambda *event: emitted.append(event), utcnow() + timedelta(days=8)) == 0
    final = company.get(f"/api/v1/proposals/{proposal['id']}").json()
    assert (final["status"], final["outcome"], final["tally"]) == (
        "closed",
        "passed",
        {"support": 2, "oppose": 1, "abstain": 0},
    )
    assert company.post(votes, {"household": "9-9-909", "choice": "oppose"}).status_code == 409
    listed = company.get("/api/v1/proposals", params={"estate_id": company.estate_id, "status": "closed"}).json()
    assert [p["id"] for p in listed["data"]] == [proposal["id"]]
