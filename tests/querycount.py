"""Counting the SQL a page sends, for the no-N+1 tests."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counting(engine):
    """SQL statements this thread sends (the test client serves requests in it); background
    job threads, which may be fanning out notifications meanwhile, are not counted."""
    statements: list[str] = []
    me = threading.get_ident()

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == me:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
