"""How problems and their updates read as Atom entries.

Ids are tag: URIs (RFC 4151) on the site's host name, fixed at 2026 (when FixQuest first
published feeds), so an entry keeps its id when its title, status or URL changes and a
reader never shows it twice.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for

from challenges.models import Problem
from feeds.atom import Entry
from feeds.services import Reported, Update

TAG_DATE = "2026"


def tag(path: str) -> str:
    host = current_app.config.get("SERVER_NAME") or request.host
    authority = urlsplit("//" + host).hostname or "localhost"
    return f"tag:{authority},{TAG_DATE}:fixquest/{path}"


def words(status: str | None) -> str:
    return (status or "unknown").replace("_", " ")


def problem_url(problem_id: int) -> str:
    return url_for("challenges.problem", problem_id=problem_id, _external=True)


def where(problem: Problem) -> str:
    point = f"{problem.lat:.5f}, {problem.lon:.5f}"
    return f"{problem.address} ({point})" if problem.address else point


def problem_entry(row: Reported) -> Entry:
    problem = row.problem
    return Entry(
        id=tag(f"problem/{problem.id}"),
        title=problem.title,
        published=problem.created_at,
        updated=max(problem.created_at, problem.updated_at or problem.created_at),
        link=problem_url(problem.id),
        author=row.reporter,
        categories=(problem.category,),
        summary=f"{problem.category.capitalize()}, {words(problem.status)}: {where(problem)}",
        content=(f"{problem.description}\n\nStatus: {words(problem.status)}\nCategory: {problem.category}\n"
                 f"Where: {where(problem)}\nReported by: {row.reporter}"),
        point=(problem.lat, problem.lon),
    )


def update_title(row: Update) -> str:
    update = row.update
    if update.kind == "reported":
        return f"Reported by {row.author}"
    if update.kind == "status":
        return f"Status changed from {words(update.old_status)} to {words(update.new_status)}"
    if update.kind == "comment":
        return f"Update from {row.author}"
    if update.kind == "merged":
        return "A duplicate report was merged into this problem"
    if update.kind == "fix":
        return f"Fix story from {row.author}"
    return update.kind.capitalize()


def update_entry(row: Update, problem: Problem) -> Entry:
    update = row.update
    title = update_title(row)
    content = update.body or title + "."
    if update.kind == "reported" and not update.body:
        content = problem.description
    elif update.kind == "status" and update.body:
        content = f"{title}.\n\n{update.body}"
    return Entry(
        id=tag(f"update/{update.id}"),  # not under the problem: merges move updates
        title=title,
        published=update.created_at,
        updated=update.created_at,
        link=f"{problem_url(problem.id)}#update-{update.id}",
        author=row.author,
        categories=(update.kind,),
        content=content,
    )
