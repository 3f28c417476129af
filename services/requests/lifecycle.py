"""The case state machine, as one table: which action leads from which states to which.

submitted → accepted → assigned → in_progress → resolved → closed, with reopen from resolved
or closed, and cancel before work starts. Anything not in the table is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "submitted",
    "accepted",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "reopened",
    "cancelled",
)


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    needs_assignee: bool = False


TRANSITIONS: dict[str, Rule] = {
    "accept": Rule(frozenset({"submitted", "reopened"}), "accepted"),
    "assign": Rule(frozenset({"accepted", "assigned", "in_progress", "reopened"}), "assigned", True),
    "start": Rule(frozenset({"assigned"}), "in_progress"),
    "resolve": Rule(frozenset({"in_progress"}), "resolved"),
    "close": Rule(frozenset({"resolved"}), "closed"),
    "reopen": Rule(frozenset({"resolved", "closed"}), "reopened"),
    "cancel": Rule(frozenset({"submitted", "accepted", "assigned"}), "cancelled"),
}

ACTIONS = tuple(TRANSITIONS)


class IllegalTransition(Exception):
    """The action is not allowed from the case's current state."""


def next_state(current: str, action: str, assignee: str | None = None) -> str:
    """The state after ``action``, or :class:`IllegalTransition` explaining why not."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise IllegalTransition(f"unknown action {action!r}")
    if current not in rule.sources:
        allowed = ", ".join(sorted(a for a, r in TRANSITIONS.items() if current in r.sources))
        raise IllegalTransition(f"cannot {action} a case that is {current} (allowed: {allowed or 'none'})")
    if rule.needs_assignee and not assignee:
        raise IllegalTransition(f"{action} needs an assignee")
    return rule.target


def allowed_actions(current: str) -> list[str]:
    return [action for action, rule in TRANSITIONS.items() if current in rule.sources]
