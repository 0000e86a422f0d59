"""SQLite outbox: WAL journal, one connection per thread and process, ``BEGIN IMMEDIATE``
so that claiming is serialised between workers."""

import os
import sqlite3

from .base import Outbox


class SQLiteOutbox(Outbox):
    id_column = "INTEGER PRIMARY KEY AUTOINCREMENT"
    retryable = (sqlite3.OperationalError,)
    group_commit = True

    def __init__(self, url, synchronous="FULL", **options):
        path = url.split(":", 1)[1]
        path = path[3:] if path.startswith("///") else path.lstrip("/")
        if not path or path == ":memory:":
            raise ValueError("the SQLite outbox needs a file: sqlite:///path/outbox.sqlite")
        self.path = os.path.abspath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.synchronous = synchronous.upper()
        if self.synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("sqlite_synchronous must be FULL, NORMAL or EXTRA")
        super().__init__(url, **options)

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def begin(self, conn, ddl=False):
        conn.execute("BEGIN IMMEDIATE")
