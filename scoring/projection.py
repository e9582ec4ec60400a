"""Push committed ledger changes to the leaderboard projection.

ledger.award queues (board, member) pairs on the session (aftercommit.queue); after the
transaction commits they are handed to the app's leaderboard backend. A rollback discards
them, so Redis never shows points the database does not hold. A failure here never fails
the request: the award stands and `flask --app app scoring rebuild` repairs the projection.
"""
from __future__ import annotations

from flask import current_app

import aftercommit
from scoring.ledger import PENDING_KEY


def refresh_leaderboards(members: list) -> None:
    current_app.extensions["fixquest.leaderboard"].refresh(sorted(members))


def install() -> None:
    aftercommit.on_commit(PENDING_KEY, refresh_leaderboards)
