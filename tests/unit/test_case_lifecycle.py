"""The case state machine, every action from every state (no broker, no database)."""

import pytest

from services.requests.lifecycle import ACTIONS, STATES, TRANSITIONS, IllegalTransition, allowed_actions, next_state

pytestmark = pytest.mark.unit

LEGAL = {
    ("submitted", "accept"): "accepted",
    ("submitted", "cancel"): "cancelled",
    ("accepted", "assign"): "assigned",
    ("accepted", "cancel"): "cancelled",
    ("assigned", "assign"): "assigned",
    ("assigned", "start"): "in_progress",
    ("assigned", "cancel"): "cancelled",
    ("in_progress", "assign"): "assigned",
    ("in_progress", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "reopened",
    ("closed", "reopen"): "reopened",
    ("reopened", "accept"): "accepted",
    ("reopened", "assign"): "assigned",
}


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_legal_transition(state, action):
    assert next_state(state, action, assignee="王师傅") == LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL])
def test_illegal_transition_is_refused(state, action):
    with pytest.raises(IllegalTransition, match=f"cannot {action} a case that is {state}"):
        next_state(state, action, assignee="王师傅")


def test_assign_needs_an_assignee():
    with pytest.raises(IllegalTransition, match="assign needs an assignee"):
        next_state("accepted", "assign", assignee=None)


def test_unknown_action():
    with pytest.raises(IllegalTransition, match="unknown action 'fly'"):
        next_state("submitted", "fly")


def test_allowed_actions_follow_the_table():
    assert allowed_actions("submitted") == ["accept", "cancel"]
    assert allowed_actions("closed") == ["reopen"]
    assert allowed_actions("cancelled") == []
    assert set(TRANSITIONS) == set(ACTIONS)
