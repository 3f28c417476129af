"""The case state machine, as one table: which action leads from which states to which.

submitted → accepted → assigned → in_progress → resolved → closed, with a pause while the case
waits on the resident (waiting_resident ⇄ in_progress), hand-back (退单) and reassignment with a
reason, reopen from resolved or closed, cancel before work starts, and ``merge`` into an estate
incident (a system action: the incident's resolution resolves every merged case). Anything not
in the table is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "submitted",
    "accepted",
    "assigned",
    "in_progress",
    "waiting_resident",
    "resolved",
    "closed",
    "reopened",
    "merged",
    "cancelled",
)

#: States in which a case is still being handled (its SLA clocks may run out).
OPEN_STATES = frozenset({"submitted", "accepted", "assigned", "in_progress", "waiting_resident", "reopened"})


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    needs_assignee: bool = False
    needs_reason: bool = False
    system: bool = False  # only the service itself takes it (not offered over the API)


TRANSITIONS: dict[str, Rule] = {
    "accept": Rule(frozenset({"submitted", "reopened"}), "accepted"),
    # A first assignment; changing hands later is a ``reassign`` (or a ``hand_back``), with a reason.
    "assign": Rule(frozenset({"accepted", "reopened"}), "assigned", needs_assignee=True),
    "reassign": Rule(frozenset({"assigned", "in_progress"}), "assigned", needs_assignee=True, needs_reason=True),
    "hand_back": Rule(frozenset({"assigned", "in_progress"}), "accepted", needs_reason=True),
    "start": Rule(frozenset({"assigned", "reopened"}), "in_progress", needs_assignee=True),
    "wait_resident": Rule(frozenset({"in_progress"}), "waiting_resident", needs_reason=True),
    "resume": Rule(frozenset({"waiting_resident"}), "in_progress"),
    "resolve": Rule(frozenset({"in_progress", "merged"}), "resolved"),
    "close": Rule(frozenset({"resolved"}), "closed"),
    "reopen": Rule(frozenset({"resolved", "closed"}), "reopened", needs_reason=True),
    "cancel": Rule(frozenset({"submitted", "accepted", "assigned"}), "cancelled"),
    "merge": Rule(OPEN_STATES, "merged", needs_reason=True, system=True),
}

ACTIONS = tuple(TRANSITIONS)
#: What a caller may ask for over the API (``merge`` goes through an incident).
USER_ACTIONS = tuple(action for action, rule in TRANSITIONS.items() if not rule.system)


class IllegalTransition(Exception):
    """The action is not allowed from the case's current state."""


def next_state(current: str, action: str, assignee: str | None = None, reason: str | None = None) -> str:
    """The state after ``action``, or :class:`IllegalTransition` explaining why not."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise IllegalTransition(f"unknown action {action!r}")
    if current not in rule.sources:
        allowed = ", ".join(allowed_actions(current))
        raise IllegalTransition(f"cannot {action} a case that is {current} (allowed: {allowed or 'none'})")
    if rule.needs_assignee and not assignee:
        raise IllegalTransition(f"{action} needs an assignee")
    if rule.needs_reason and not reason:
        raise MissingReason(f"{action} needs a reason")
    return rule.target


class MissingReason(IllegalTransition):
    """A hand-back, reassignment, wait or reopen without saying why."""


def allowed_actions(current: str) -> list[str]:
    """The actions a caller may take now (system actions are not offered)."""
    return [action for action, rule in TRANSITIONS.items() if current in rule.sources and not rule.system]


def offered(current: str) -> list[dict]:
    """The actions a caller may take now, each with what it needs: the one answer the API gives
    (``allowed_actions_detail``) and the workbench renders as buttons, so no page restates the table."""
    return [
        {"action": action, "needs_note": rule.needs_reason, "needs_assignee": rule.needs_assignee}
        for action, rule in TRANSITIONS.items()
        if current in rule.sources and not rule.system
    ]
