"""An event as an iCalendar file (RFC 5545), pure: one VCALENDAR with one VEVENT."""
from __future__ import annotations

from datetime import datetime

from timeutil import as_utc

PRODID = "-//FixQuest//Events//EN"


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon and comma escaped, newlines as \\n (RFC 5545 3.3.11)."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n"))


def utc_stamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never
    splitting a UTF-8 character (RFC 5545 3.1)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # continuation lines start with a space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def calendar(*, uid: str, title: str, description: str, location: str, starts_at: datetime, ends_at: datetime,
             url: str, stamp: datetime, geo: tuple[float, float] | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{utc_stamp(stamp)}", f"DTSTART:{utc_stamp(starts_at)}",
             f"DTEND:{utc_stamp(ends_at)}", f"SUMMARY:{escape(title)}", f"DESCRIPTION:{escape(description)}",
             f"LOCATION:{escape(location)}", f"URL:{url}"]
    if geo is not None:
        lines.append(f"GEO:{geo[0]:.6f};{geo[1]:.6f}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
