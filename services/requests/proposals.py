"""Owners' proposals (让业主议事): a question for an estate, a voting window, one vote per household.

When the window closes a timer counts the result (every instance runs it; the conditional
UPDATE lets one of them close each proposal).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.common.pages import page
from services.requests import cases
from services.requests.cases import Emit
from services.requests.models import Proposal, ProposalVote
from services.requests.schemas import CHOICES, ProposalSchema, VoteSchema

log = logging.getLogger(__name__)

SHORTEST_WINDOW = timedelta(hours=1)
LONGEST_WINDOW = timedelta(days=90)
PROPOSAL = ProposalSchema()


def outcome(support: int, oppose: int, abstain: int) -> str:
    """More support than opposition passes; abstentions count as turnout, not as a side."""
    if support + oppose + abstain == 0:
        return "no_votes"
    return "passed" if support > oppose else "rejected"


def to_dict(session: Session, proposal: Proposal) -> dict:
    if proposal.status == "closed":
        tally = {"support": proposal.support, "oppose": proposal.oppose, "abstain": proposal.abstain}
    else:
        tally = tally_of(session, proposal.id)
    return PROPOSAL.dump({**{c.name: getattr(proposal, c.name) for c in Proposal.__table__.columns}, "tally": tally})


def tally_of(session: Session, proposal_id: str) -> dict[str, int]:
    rows = session.execute(
        select(ProposalVote.choice, func.count())
        .where(ProposalVote.proposal_id == proposal_id)
        .group_by(ProposalVote.choice)
    ).all()
    return {choice: 0 for choice in CHOICES} | {choice: count for choice, count in rows}


def proposal_of(session: Session, tenant: str, proposal_id: str) -> Proposal:
    proposal = session.scalars(select(Proposal).where(Proposal.id == proposal_id, Proposal.tenant == tenant)).first()
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal


def create(session: Session, tenant: str, data: dict, actor: str, now: datetime) -> dict:
    try:
        estate = cases.estate_of(session, tenant, data["estate_id"])
    except NotFound:
        raise ValidationFailed("unknown estate", {"estate_id": ["没有这个小区 (no such estate)"]}) from None
    if not now + SHORTEST_WINDOW <= data["closes_at"] <= now + LONGEST_WINDOW:
        raise ValidationFailed(
            "voting window", {"closes_at": ["投票期应为 1 小时至 90 天 (1 hour to 90 days from now)"]}
        )
    proposal = Proposal(
        id=new_id(), tenant=tenant, estate_id=estate.id, title=data["title"], description=data["description"],
        proposer=actor, opens_at=now, closes_at=data["closes_at"], status="open", created_at=now,
    )  # fmt: skip
    session.add(proposal)
    session.flush()
    return to_dict(session, proposal)


def vote(session: Session, tenant: str, proposal_id: str, data: dict, actor: str, now: datetime) -> dict:
    """One vote per household: a second one is a conflict, and the first stands."""
    proposal = proposal_of(session, tenant, proposal_id)
    if proposal.status != "open" or now >= proposal.closes_at:
        raise Conflict("voting has closed for this proposal")
    ballot = ProposalVote(
        proposal_id=proposal.id, household=data["household"], choice=data["choice"], voter=actor, at=now
    )
    try:
        with session.begin_nested():
            session.add(ballot)
    except IntegrityError:
        raise Conflict(f"本户已投票 (household {data['household']} has already voted)") from None
    return VoteSchema().dump(ballot)


def household_votes(session: Session, tenant: str, proposal_id: str, households: list[str]) -> dict[str, str]:
    """How each of ``households`` voted (those that have): a resident's page shows its own household's
    vote instead of a form that could only answer 本户已投票. The caller passes only households the
    register confirmed for the person asking; no one learns another household's choice."""
    proposal = proposal_of(session, tenant, proposal_id)
    if not households:
        return {}
    rows = session.execute(
        select(ProposalVote.household, ProposalVote.choice).where(
            ProposalVote.proposal_id == proposal.id, ProposalVote.household.in_(households)
        )
    ).all()
    return dict(rows)


def close_due(session: Session, emit: Emit, now: datetime) -> int:
    """Close every proposal whose window has ended, exactly once each; returns how many."""
    due = session.scalars(
        select(Proposal.id).where(Proposal.status == "open", Proposal.closes_at <= now).order_by(Proposal.id)
    ).all()
    closed = 0
    for proposal_id in due:
        tally = tally_of(session, proposal_id)
        result = outcome(tally["support"], tally["oppose"], tally["abstain"])
        won = session.execute(
            update(Proposal)
            .where(Proposal.id == proposal_id, Proposal.status == "open")
            .values(status="closed", closed_at=now, outcome=result, **tally)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:
            continue  # another instance closed it first
        proposal = session.get(Proposal, proposal_id)
        session.refresh(proposal)
        emit(session, "proposal.closed", proposal.id, proposal.tenant,
             {"proposal_id": proposal.id, "estate_id": proposal.estate_id, "title": proposal.title,
              "outcome": result, **tally})  # fmt: skip
        log.info("proposal %s closed: %s %s", proposal.id, result, tally)
        closed += 1
    return closed


def list_proposals(session: Session, tenant: str, query: dict) -> dict:
    found = select(Proposal).where(Proposal.tenant == tenant)
    if query.get("estate_id"):
        found = found.where(Proposal.estate_id == query["estate_id"])
    if query.get("status"):
        found = found.where(Proposal.status == query["status"])
    rows, has_more = page(session, found, Proposal.id, query["limit"], query.get("starting_after"))
    return {"data": [to_dict(session, proposal) for proposal in rows], "has_more": has_more}
