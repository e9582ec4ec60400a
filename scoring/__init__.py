"""The points ledger (the only writer of points) and the leaderboards derived from it."""
