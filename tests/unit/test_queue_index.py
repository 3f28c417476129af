"""The queue's search bigrams and status counters as plain functions: no broker, no database."""

from collections import Counter
from types import SimpleNamespace

import pytest

from services.requests import bigrams, status_counts

pytestmark = pytest.mark.unit


def test_a_texts_bigrams_are_its_distinct_lower_cased_pairs_and_none_cross_two_fields():
    assert bigrams.of_text("厨房漏水漏水") == {"厨房", "房漏", "漏水", "水漏"}
    assert bigrams.of_text("Pump") == {"pu", "um", "mp"}
    assert bigrams.of_text("水") == set()
    assert bigrams.of_text("") == set()
    assert bigrams.of_case("漏", "水管") == {"水管"}  # 漏|水 spans the two fields: no bigram
    assert list(bigrams.rows("t1", "c1", "电梯", "B1")) == [
        {"tenant": "t1", "bigram": "b1", "case_id": "c1"},
        {"tenant": "t1", "bigram": "电梯", "case_id": "c1"},
    ]


def test_a_term_gives_at_most_four_of_its_bigrams_spread_over_it_and_only_two_characters_decide():
    assert bigrams.of_term("漏水") == ["漏水"]
    assert bigrams.of_term("水") == []
    assert bigrams.of_term("100%") == ["10", "00", "0%"]
    assert bigrams.of_term("ABCDEFGH") == ["ab", "cd", "ef", "gh"]  # first and last kept
    assert bigrams.of_term("哈哈哈哈") == ["哈哈"]
    assert [bigrams.decides(t) for t in ("水", "漏水", "漏水了")] == [False, True, False]


def test_a_transactions_moves_are_netted_per_status_and_written_in_key_order():
    session = SimpleNamespace(info={})
    status_counts.moved(session, "t2", None, "submitted")
    status_counts.moved(session, "t1", None, "submitted")
    status_counts.moved(session, "t1", "submitted", "accepted")
    status_counts.moved(session, "t1", "accepted", "assigned")
    status_counts.moved(session, "t1", "assigned", "assigned")  # no move: nothing
    moves = session.info[status_counts.PENDING]
    assert status_counts.netted(moves) == [(("t1", "assigned"), 1), (("t2", "submitted"), 1)]
    assert status_counts.netted(Counter({("t1", "closed"): -1, ("t1", "accepted"): 0})) == [(("t1", "closed"), -1)]
