"""Factories that build domain objects through the real services."""
from __future__ import annotations

import itertools
from datetime import timedelta

from accounts import services as accounts
from accounts.models import Role, Team, TeamMembership, User
from challenges import reviews
from challenges import services as challenges
from challenges.models import Claim, Problem, Quest
from extensions import db
from timeutil import utcnow

_seq = itertools.count(1)
PASSWORD = "a long test passphrase"
TEST_HASH = "pbkdf2:sha256:1000"  # fast for tests; production uses scrypt


def make_user(*, role: Role | str = Role.participant, name: str | None = None,
              email: str | None = None, password: str = PASSWORD, verified: bool = True) -> User:
    """A person; their email is confirmed unless verified=False (a fresh sign-up)."""
    n = next(_seq)
    user = accounts.create_user(db.session, email=email or f"person{n}@example.org", password=password,
                                display_name=name or f"Player {n}", role=role, hash_method=TEST_HASH,
                                verified=verified)
    db.session.commit()
    return user


def make_organiser(**kw) -> User:
    return make_user(role=Role.organiser, **kw)


def make_team(captain: User, *, name: str | None = None, members: tuple[User, ...] = ()) -> Team:
    team = accounts.create_team(db.session, actor=captain, name=name or f"Team {next(_seq)}")
    for member in members:
        if member.is_child:  # as a class puts its children in its team (classes/services.py)
            db.session.add(TeamMembership(team_id=team.id, user_id=member.id, joined_at=utcnow()))
        else:
            accounts.join_team(db.session, actor=member, code=team.join_code)
    db.session.commit()
    return team


def make_problem(reporter: User, **kw) -> Problem:
    fields = dict(title="Pothole on Broad Street", description="Deep enough to break an ankle.",
                  category="pothole", lat=51.4545, lon=-2.5879, address="Broad Street")
    fields.update(kw)
    problem = challenges.report_problem(db.session, actor=reporter, categories=("pothole", "litter", "graffiti", "other"),
                                        **fields)
    db.session.commit()
    return problem


def make_quest(organiser: User, **kw) -> Quest:
    fields = dict(title="Clear the bus stop litter", brief="People wait here every morning.", points=50,
                  difficulty="easy", mode="solo", evidence_wanted="A note on what you cleared.",
                  ends_at=utcnow() + timedelta(days=3))
    fields.update(kw)
    quest = challenges.create_quest(db.session, actor=organiser, **fields)
    db.session.commit()
    return quest


def make_claim(user: User, quest: Quest, *, team: Team | None = None, submit: bool = False,
               evidence: str = "Cleared two bags of litter.") -> Claim:
    claim = challenges.claim_quest(db.session, actor=user, quest=quest, team_id=team.id if team else None)
    if submit:
        challenges.submit_evidence(db.session, actor=user, claim=claim, evidence=evidence)
    db.session.commit()
    return claim


def approve(reviewer: User, claim: Claim) -> Claim:
    reviews.review_claim(db.session, actor=reviewer, claim=claim, decision="approve")
    db.session.commit()
    return claim
