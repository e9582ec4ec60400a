"""Abuse and moderation: flags, the moderators' queue, hiding and restoring content, the
word list that holds posts for review, suspensions and the audit log (see README,
"Moderation")."""
