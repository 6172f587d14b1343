"""Run with Elia's own interpreter (its virtualenv): make Elia's database, with its own
schema code, holding one chat of the messages given as JSON on stdin.

    ELIA_PYTHON elia_db.py < messages.json      (XDG_DATA_HOME names where it goes)
"""

import asyncio
import json
import sqlite3
import sys

import elia_chat.database.models  # noqa: F401 - registers the tables create_database makes
from elia_chat.database.database import create_database, sqlite_file_name


def main() -> None:
    messages = json.load(sys.stdin)
    asyncio.run(create_database())
    with sqlite3.connect(sqlite_file_name) as conn:
        chat = conn.execute("INSERT INTO chat (model, title, archived) VALUES ('gpt-4o', 'long', 0)").lastrowid
        parent = None
        for role, content in messages:
            parent = conn.execute(
                "INSERT INTO message (chat_id, role, content, timestamp, meta, parent_id, model)"
                " VALUES (?, ?, ?, datetime('now'), '{}', ?, 'gpt-4o')",
                (chat, role, content, parent),
            ).lastrowid


if __name__ == "__main__":
    main()
