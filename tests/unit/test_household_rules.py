"""The register's row checks, the household a resident acts for, and how verified answers are counted."""

from datetime import datetime

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.common.errors import ValidationFailed
from services.gateway import register
from services.gateway.authorization import Forbidden
from services.gateway.residents import NOT_CONFIRMED, choose_household, csrf_ok
from services.gateway.sessions import SignedIn
from services.surveys import statistics, tallies
from services.surveys.models import Survey

pytestmark = pytest.mark.unit

ESTATES = {"estate-1": "tenant-a", "estate-2": "tenant-b"}


def test_valid_rows_carry_their_estates_company_and_a_normalised_phone():
    valid, errors = register.check_rows(
        [(2, {"estate_id": "estate-2", "household": "5-5-505", "phone": "139 1234 5678", "name": "ignored"})], ESTATES
    )
    assert errors == {}
    assert valid == [
        {"estate_id": "estate-2", "household": "5-5-505", "phone": "+8613912345678", "line": 2, "tenant_id": "tenant-b"}
    ]


def test_each_bad_row_is_reported_by_its_line():
    rows = [
        (2, {"estate_id": "estate-1", "household": "5-5", "phone": "13912345678"}),
        (3, {"estate_id": "nowhere", "household": "5-5-505", "phone": "13912345678"}),
        (4, {"estate_id": "estate-1", "household": "5-5-505", "phone": "010-12345678"}),
        (5, ["not", "an", "object"]),
        (6, {"estate_id": "estate-1", "household": "5-5-505"}),
        (7, {"estate_id": "estate-1", "household": "5-5-505", "phone": "13912345678"}),
        (8, {"estate_id": "estate-1", "household": "5-5-505", "phone": "+8613912345678"}),
    ]
    valid, errors = register.check_rows(rows, ESTATES)
    assert [row["line"] for row in valid] == [7]
    assert errors == {
        "2": {"household": ["门牌应为 楼-单元-房号, 如 3-2-501 (building-unit-room)"]},
        "3": {"estate_id": [register.NO_ESTATE]},
        "4": {"phone": ["不是有效的中国大陆手机号码 (not a valid mainland China mobile number)"]},
        "5": {"_schema": ["must be an object with estate_id, household, phone"]},
        "6": {"phone": ["Missing data for required field."]},
        "8": {"phone": ["重复 (repeats line 7)"]},
    }


def test_a_csv_needs_its_three_columns_and_keeps_file_line_numbers():
    text = "\ufeff estate_id , household,phone\nestate-1,1-1-101,13912345678\n\n,,\nestate-1,1-1-102,13912345679\n"
    assert register.rows_from_csv(text) == [
        (2, {"estate_id": "estate-1", "household": "1-1-101", "phone": "13912345678"}),
        (5, {"estate_id": "estate-1", "household": "1-1-102", "phone": "13912345679"}),
    ]
    with pytest.raises(ValidationFailed) as missing:
        register.rows_from_csv("estate_id,phone\nestate-1,13912345678\n")
    assert missing.value.errors == {"file": ["missing columns: household"]}


def test_the_household_a_resident_acts_for_comes_from_the_register():
    with pytest.raises(Forbidden) as none:
        choose_household([], "5-5-505")  # asking for a household is no confirmation
    assert none.value.detail == NOT_CONFIRMED
    assert choose_household(["5-5-505"], None) == "5-5-505"
    assert choose_household(["5-5-505", "5-5-506"], "5-5-506") == "5-5-506"
    with pytest.raises(ValidationFailed) as which:
        choose_household(["5-5-505", "5-5-506"], None)
    assert list(which.value.errors) == ["household"]
    with pytest.raises(ValidationFailed):
        choose_household(["5-5-505"], "5-5-506")


def test_a_signed_in_answer_must_come_with_the_pages_csrf_token():
    person = SignedIn("p", "+8613912345678", "s", csrf="the-token")

    def post(**kwargs):
        return Request(EnvironBuilder(method="POST", **kwargs).get_environ())

    assert csrf_ok(post(data={"csrf": "the-token", "score": "5"}), person)
    assert csrf_ok(post(json={"score": 5}, headers={"X-CSRF-Token": "the-token"}), person)
    assert not csrf_ok(post(data={"score": "5"}), person)
    assert not csrf_ok(post(data={"csrf": "another"}), person)


def answered(verified: bool, score: int = 5, flagged: bool = False) -> Survey:
    moment = datetime(2026, 10, 1)
    return Survey(
        tenant="t", estate_id="e", category="repair", assignee=None, month="2026-10", status="answered",
        link_sent_at=moment, score=score, nps=10, ces=None, solved=True, reopened_at=None,
        flagged_burst=flagged, verified=verified,
    )  # fmt: skip


def test_an_unverified_answer_counts_apart_from_the_ones_the_league_reads():
    verified, unverified = tallies.contribution(answered(True)), tallies.contribution(answered(False))
    assert (verified["responses"], verified["satisfied"], verified["unverified_responses"]) == (1, 1, 0)
    assert (unverified["issued"], unverified["responses"], unverified["satisfied"]) == (1, 0, 0)
    assert (unverified["unverified_responses"], unverified["unverified_score_sum"]) == (1, 5)
    flagged = tallies.contribution(answered(False, flagged=True))
    assert (flagged["flagged"], flagged["flagged_satisfied"], flagged["unverified_flagged"]) == (0, 0, 1)


def test_the_company_sees_every_answer_and_the_public_only_verified_unflagged_ones():
    sums = dict.fromkeys(tallies.COUNTERS, 0)
    for survey in (answered(True, 5), answered(True, 4, flagged=True), answered(False, 1), answered(False, 2)):
        for name, value in tallies.contribution(survey).items():
            sums[name] += value
    own, public = statistics.figures(sums), statistics.figures(sums, trusted_only=True)
    assert (own["issued"], own["responses"], own["unverified_responses"], own["csat"]) == (4, 4, 2, 0.5)
    assert (public["responses"], public["csat"], public["csat_mean"]) == (1, 1.0, 5.0)
