"""Spreadsheet-safe CSV cells, shared by every CSV export (class reports, open data)."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A spreadsheet treats a cell starting with = + - @ as a formula: quote it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
