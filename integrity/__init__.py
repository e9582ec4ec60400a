"""Anti-cheating: one payout per fix cycle of a problem, and alerts on bursts of approvals
between the same people (see README, "Integrity")."""
