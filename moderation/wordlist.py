"""The word list that holds posts for review.

A post (a new problem, an update or comment, a claim's evidence) containing a listed word
or phrase is saved but held: only its author and moderators see it until a moderator
releases it. Matching is by whole words, case-insensitive, after a simple normalisation
(Unicode NFKD with accents dropped, case folded, common look-alike digits and symbols read
as letters: 0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s), so "Bádword", "BADWORD" and
"b4dw0rd" match "badword" but "badwords" and "scunthorpe" do not.

The words are FIXQUEST_MODERATION_WORDS (comma-separated) plus the admins' list
(/admin/words, the moderation_words table).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from errors import Conflict, Forbidden, NotFound, ValidationFailed
from moderation import audit
from moderation.audit import Action
from moderation.models import HeldWord, ModeratedItem, Visibility
from timeutil import utcnow

WORD_MAX = 60
_LOOKALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_TOKEN = re.compile(r"\w+")


def normalise(text: str) -> list[str]:
    """The words of a text, normalised for matching."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_LOOKALIKES)
    return _TOKEN.findall(plain.replace("_", " "))


def configured_words() -> tuple[str, ...]:
    return tuple(current_app.config.get("MODERATION_WORDS", ())) if has_app_context() else ()


def listed_words(session: Session) -> list[str]:
    return list(configured_words()) + list(session.scalars(select(HeldWord.word).order_by(HeldWord.word)))


def matches(words: Iterable[str], *texts: str | None) -> list[str]:
    """The listed words (or phrases) found in the texts, as listed."""
    tokens = [normalise(text or "") for text in texts]
    found = []
    for word in words:
        wanted = normalise(word)
        if not wanted:
            continue
        n = len(wanted)
        if any(t[i:i + n] == wanted for t in tokens for i in range(len(t) - n + 1)):
            found.append(word)
    return found


def held_words_in(session: Session, *texts: str | None) -> list[str]:
    return matches(listed_words(session), *texts)


def hold(session: Session, *, kind: str, object_id: int, owner_id: int, words: list[str],
         now: datetime | None = None) -> ModeratedItem:
    """Record a held post in the moderators' queue (the caller set its visibility)."""
    now = now or utcnow()
    row = session.scalar(select(ModeratedItem).where(ModeratedItem.kind == kind, ModeratedItem.object_id == object_id))
    if row is None:
        row = ModeratedItem(kind=kind, object_id=object_id, owner_id=owner_id)
        session.add(row)
    row.state, row.created_at, row.decided_at, row.decided_by_id = Visibility.held.value, now, None, None
    row.reason = "Held for review: it contains " + ", ".join(f"\u201c{w}\u201d" for w in words)
    session.flush()
    return row


# --- the admins' list --------------------------------------------------------------------------

def admin_list(session: Session, *, actor) -> list[HeldWord]:
    """The admins' list, alphabetical (the configured words are configured_words())."""
    if not actor.is_admin:
        raise Forbidden("see the word list", "only admins do that.")
    return list(session.scalars(select(HeldWord).order_by(HeldWord.word)))


def add_word(session: Session, *, actor, word: str, now: datetime | None = None) -> HeldWord:
    if not actor.is_admin:
        raise Forbidden("change the word list", "only admins do that.")
    word = " ".join((word or "").split())
    if not normalise(word):
        raise ValidationFailed({"word": ["Enter a word or a short phrase (letters or digits)."]})
    if len(word) > WORD_MAX:
        raise ValidationFailed({"word": [f"Keep this to {WORD_MAX} characters or fewer."]})
    if session.scalar(select(HeldWord.id).where(HeldWord.word == word)) is not None:
        raise Conflict(f"\u201c{word}\u201d is already on the list.")
    row = HeldWord(word=word, created_by_id=actor.id, created_at=now or utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=Action.word_add, object_kind="word", object_id=row.id,
                 detail={"word": word}, now=now)
    return row


def remove_word(session: Session, *, actor, word_id: int, now: datetime | None = None) -> str:
    if not actor.is_admin:
        raise Forbidden("change the word list", "only admins do that.")
    row = session.get(HeldWord, word_id)
    if row is None:
        raise NotFound("word", word_id)
    word = row.word
    session.delete(row)
    audit.record(session, actor=actor, action=Action.word_remove, object_kind="word", object_id=word_id,
                 detail={"word": word}, now=now)
    return word


def hold_if_listed(session: Session, row, *, kind: str, owner_id: int, texts: Iterable[str | None],
                   now: datetime | None = None) -> bool:
    """Hold a new post (a Problem, ProblemUpdate or Claim already flushed) that contains a
    listed word: it is saved, only its author and the moderators see it, and it waits in the
    moderators' queue. True when held."""
    words = held_words_in(session, *texts)
    if not words:
        return False
    if kind == "evidence":
        row.evidence_visibility = Visibility.held.value
    else:
        row.visibility = Visibility.held.value
    hold(session, kind=kind, object_id=row.id, owner_id=owner_id, words=words, now=now)
    return True
