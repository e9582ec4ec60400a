"""A small Atom 1.0 (RFC 4287) writer: plain data in, UTF-8 XML out.

Written with the standard library's XMLGenerator, which escapes text and attributes; text
is also stripped of the characters XML 1.0 cannot carry at all (control characters, lone
surrogates), which a report could otherwise smuggle in to break every reader of a feed.
Entries may carry a GeoRSS-Simple point ("lat lon"), which map-aware readers show.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import XMLGenerator

from timeutil import isoformat

ATOM_NS = "http://www.w3.org/2005/Atom"
GEORSS_NS = "http://www.georss.org/georss"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    published: datetime
    link: str
    content: str
    summary: str | None = None
    author: str | None = None
    categories: Sequence[str] = ()
    point: tuple[float, float] | None = None  # (lat, lon)


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: datetime
    self_url: str
    alternate_url: str
    author: str
    subtitle: str | None = None
    lang: str = "en-GB"
    entries: Sequence[Entry] = field(default_factory=tuple)


def xml_text(value: str) -> str:
    """Text that XML 1.0 can hold: characters it forbids are dropped."""
    return _NOT_XML.sub("", value)


class _Writer:
    def __init__(self, out: io.BytesIO):
        self.xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)

    def start(self, name: str, attrs: dict[str, str] | None = None) -> None:
        self.xml.startElement(name, {k: xml_text(v) for k, v in (attrs or {}).items()})

    def end(self, name: str) -> None:
        self.xml.endElement(name)
        self.xml.ignorableWhitespace("\n")

    def empty(self, name: str, attrs: dict[str, str]) -> None:
        self.start(name, attrs)
        self.end(name)

    def text(self, name: str, value: str, attrs: dict[str, str] | None = None) -> None:
        self.start(name, attrs)
        self.xml.characters(xml_text(value))
        self.end(name)

    def person(self, role: str, name: str) -> None:
        self.start(role)
        self.text("name", name)
        self.end(role)


def render(feed: Feed) -> bytes:
    out = io.BytesIO()
    w = _Writer(out)
    w.xml.startDocument()
    w.start("feed", {"xmlns": ATOM_NS, "xmlns:georss": GEORSS_NS, "xml:lang": feed.lang})
    w.xml.ignorableWhitespace("\n")
    w.text("id", feed.id)
    w.text("title", feed.title, {"type": "text"})
    if feed.subtitle:
        w.text("subtitle", feed.subtitle, {"type": "text"})
    w.text("updated", isoformat(feed.updated))
    w.empty("link", {"rel": "self", "type": "application/atom+xml", "href": feed.self_url})
    w.empty("link", {"rel": "alternate", "type": "text/html", "href": feed.alternate_url})
    w.person("author", feed.author)
    w.text("generator", "FixQuest")
    for entry in feed.entries:
        _entry(w, entry)
    w.end("feed")
    w.xml.endDocument()
    return out.getvalue()


def _entry(w: _Writer, entry: Entry) -> None:
    w.start("entry")
    w.text("id", entry.id)
    w.text("title", entry.title, {"type": "text"})
    w.text("published", isoformat(entry.published))
    w.text("updated", isoformat(entry.updated))
    w.empty("link", {"rel": "alternate", "type": "text/html", "href": entry.link})
    if entry.author:
        w.person("author", entry.author)
    for term in entry.categories:
        w.empty("category", {"term": term})
    if entry.summary:
        w.text("summary", entry.summary, {"type": "text"})
    w.text("content", entry.content, {"type": "text"})
    if entry.point is not None:
        w.text("georss:point", f"{entry.point[0]:.6f} {entry.point[1]:.6f}")
    w.end("entry")


def latest(entries: Sequence[Entry], fallback: datetime) -> datetime:
    """A feed's `updated`: its newest entry's, or `fallback` when it has none."""
    return max((entry.updated for entry in entries), default=fallback)
