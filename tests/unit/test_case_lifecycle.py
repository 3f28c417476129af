"""The case state machine, every action from every state (no broker, no database)."""

import pytest

from services.requests.lifecycle import (
    ACTIONS,
    STATES,
    TRANSITIONS,
    USER_ACTIONS,
    IllegalTransition,
    MissingReason,
    allowed_actions,
    next_state,
)

pytestmark = pytest.mark.unit

OPEN = ("submitted", "accepted", "assigned", "in_progress", "waiting_resident", "reopened")

LEGAL = {
    ("submitted", "accept"): "accepted",
    ("submitted", "cancel"): "cancelled",
    ("accepted", "assign"): "assigned",
    ("accepted", "cancel"): "cancelled",
    ("assigned", "reassign"): "assigned",
    ("assigned", "hand_back"): "accepted",
    ("assigned", "start"): "in_progress",
    ("assigned", "cancel"): "cancelled",
    ("in_progress", "reassign"): "assigned",
    ("in_progress", "hand_back"): "accepted",
    ("in_progress", "wait_resident"): "waiting_resident",
    ("in_progress", "resolve"): "resolved",
    ("waiting_resident", "resume"): "in_progress",
    ("merged", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "reopened",
    ("closed", "reopen"): "reopened",
    ("reopened", "accept"): "accepted",
    ("reopened", "assign"): "assigned",
    ("reopened", "start"): "in_progress",
    **{(state, "merge"): "merged" for state in OPEN},
}


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_legal_transition(state, action):
    assert next_state(state, action, assignee="王师傅", reason="业主不在家") == LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL])
def test_illegal_transition_is_refused(state, action):
    with pytest.raises(IllegalTransition, match=f"cannot {action} a case that is {state}"):
        next_state(state, action, assignee="王师傅", reason="业主不在家")


@pytest.mark.parametrize("action", ["assign", "reassign", "start"])
def test_assigning_and_starting_need_an_assignee(action):
    state = "in_progress" if action == "reassign" else "reopened" if action == "start" else "accepted"
    with pytest.raises(IllegalTransition, match=f"{action} needs an assignee"):
        next_state(state, action, assignee=None, reason="换人")


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("assigned", "hand_back"),
        ("in_progress", "reassign"),
        ("in_progress", "wait_resident"),
        ("closed", "reopen"),
        ("submitted", "merge"),
    ],
)
def test_hand_back_reassign_wait_reopen_and_merge_need_a_reason(state, action):
    with pytest.raises(MissingReason, match=f"{action} needs a reason"):
        next_state(state, action, assignee="王师傅", reason=None)


def test_unknown_action():
    with pytest.raises(IllegalTransition, match="unknown action 'fly'"):
        next_state("submitted", "fly")


def test_allowed_actions_follow_the_table_and_never_offer_merge():
    assert allowed_actions("submitted") == ["accept", "cancel"]
    assert allowed_actions("in_progress") == ["reassign", "hand_back", "wait_resident", "resolve"]
    assert allowed_actions("waiting_resident") == ["resume"]
    assert allowed_actions("merged") == ["resolve"]
    assert allowed_actions("closed") == ["reopen"]
    assert allowed_actions("cancelled") == []
    assert set(TRANSITIONS) == set(ACTIONS)
    assert "merge" not in USER_ACTIONS and set(USER_ACTIONS) == set(ACTIONS) - {"merge"}


def test_offered_actions_say_which_need_a_note_and_an_assignee_and_match_allowed_actions():
    from services.requests.lifecycle import STATES, offered

    for state in STATES:
        assert [o["action"] for o in offered(state)] == allowed_actions(state)
    assert offered("in_progress") == [
        {"action": "reassign", "needs_note": True, "needs_assignee": True},
        {"action": "hand_back", "needs_note": True, "needs_assignee": False},
        {"action": "wait_resident", "needs_note": True, "needs_assignee": False},
        {"action": "resolve", "needs_note": False, "needs_assignee": False},
    ]
    assert offered("resolved") == [
        {"action": "close", "needs_note": False, "needs_assignee": False},
        {"action": "reopen", "needs_note": True, "needs_assignee": False},
    ]
