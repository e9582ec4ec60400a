"""The baseline for serve_compare.py: the least a Flask app can do to answer JSON.

No database, no extensions, no templates: every path returns ten leaderboard-shaped
entries, so the bare app and FixQuest are asked for the same URL and return JSON of a
similar size. Served by gunicorn exactly like FixQuest: `gunicorn bare_app:app`.
"""
from flask import Flask, jsonify

app = Flask(__name__)

ENTRIES = [{"rank": rank, "name": f"Player {rank}", "points": 1000 - 10 * rank} for rank in range(1, 11)]


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def anything(path: str):
    return jsonify(entries=ENTRIES)
