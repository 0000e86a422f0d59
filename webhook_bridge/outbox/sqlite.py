"""SQLite outbox: WAL journal, one connection per thread and process, ``BEGIN IMMEDIATE``
so that claiming is serialised between workers.

Writers queue for the database in the kernel (``flock`` on ``<outbox>.lock``, and a lock
between the threads of a process) rather than in SQLite's busy handler, which polls with
sleeps of 1, 2, 5, 10 ms and more.

Durability (``synchronous`` FULL, the default): a transaction that changed something returns
only once an ``fdatasync`` of the WAL file (what SQLite itself calls) that *began after its
commit* has returned.  SQLite commits with ``synchronous=NORMAL`` (the frames are written to
the WAL, not yet synced) and the sync follows after the write lock is released, as a group
commit shared by every process of the outbox (:class:`SharedSync`): while one sync runs, the
commits of all gunicorn workers queue behind it, and the next sync covers them all.  A disk
flush is the slowest step of an accept, and concurrent flushes only slow each other down:
one at a time, each covering every commit before it, is what makes the rate scale.  If a
checkpoint has meanwhile copied the frames into the database file, SQLite synced that file
before it could reuse the WAL.  ``EXTRA`` is SQLite's own (a sync inside the lock, per
commit); ``NORMAL`` gives up the sync.
"""

import fcntl
import mmap
import os
import sqlite3
import struct
import threading
from contextlib import contextmanager

from .base import PROCESS_SETUP_LOCK, Outbox


class ProcessLock:
    """One holder at a time among the threads of every process: a thread lock, then
    ``flock`` on ``path`` through this process's own open file.  A forked child (a gunicorn
    worker) makes its own of both: a thread lock copied at the fork may be held forever."""

    def __init__(self, path):
        self.path, self.pid, self.threads, self.file = path, None, None, None

    def _own(self):
        if self.pid != os.getpid():
            with PROCESS_SETUP_LOCK.held():
                if self.pid != os.getpid():
                    self.threads, self.file = threading.Lock(), open(self.path, "a+b")
                    self.pid = os.getpid()
        return self.threads, self.file

    @contextmanager
    def held(self):
        threads, handle = self._own()
        with threads:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class SharedSync:
    """Group commit of the WAL sync across processes.  ``<outbox>.sync`` holds two counters
    (mapped into every process): commits written, and commits known to be on disk.  A
    writer takes a number under the write lock (:meth:`committed`); :meth:`wait_durable`
    returns at once if a sync begun after that commit has finished, else takes the sync
    lock, checks again (the sync it queued behind may have covered it), and syncs
    everything committed so far itself."""

    COUNTERS = struct.Struct("=QQ")  # committed (written under the write lock), synced
    NUMBER = struct.Struct("=Q")  # (written under the sync lock): each field on its own

    def __init__(self, path, wal_path):
        self.path, self.wal_path = path, wal_path
        self.lock = ProcessLock(path)  # flock on the counters file itself
        self.map = None

    def _counters(self):
        if self.map is None or self.map[0] != os.getpid():
            with open(self.path, "a+b") as handle:
                if os.fstat(handle.fileno()).st_size < self.COUNTERS.size:
                    handle.write(b"\0" * self.COUNTERS.size)
                    handle.flush()
                self.map = (os.getpid(), mmap.mmap(handle.fileno(), self.COUNTERS.size))
        return self.map[1]

    def committed(self):
        """Call under the write lock, after a commit that changed something: its number."""
        counters = self._counters()
        number = self.NUMBER.unpack_from(counters, 0)[0] + 1
        self.NUMBER.pack_into(counters, 0, number)
        return number

    def wait_durable(self, number):
        counters = self._counters()
        with self.lock.held():
            done, synced = self.COUNTERS.unpack_from(counters)
            if synced >= number:
                return  # a sync that began after this commit has covered it
            try:
                fd = os.open(self.wal_path, os.O_RDONLY)
            except FileNotFoundError:  # checkpointed and removed: the database was synced
                return
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
            # every commit numbered up to ``done`` was written before the sync began
            self.NUMBER.pack_into(counters, self.NUMBER.size, done)


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
        self._write_lock = ProcessLock(self.path + ".lock")
        self._sync = SharedSync(self.path + ".sync", self.path + "-wal")
        super().__init__(url, **options)

    @contextmanager
    def writer(self):
        with self._write_lock.held():
            self._local.commit_number = None
            yield
            conn = self._local.conn
            if self.synchronous == "FULL" and conn.total_changes != self._local.changes_at_begin:
                self._local.commit_number = self._sync.committed()

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        own_sync = self.synchronous == "FULL"  # see the module's docstring
        conn.execute(f"PRAGMA synchronous={'NORMAL' if own_sync else self.synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def make_durable(self):
        number = getattr(self._local, "commit_number", None)
        if number is not None:
            self._sync.wait_durable(number)

    def begin(self, conn, ddl=False):
        conn.execute("BEGIN IMMEDIATE")
        self._local.changes_at_begin = conn.total_changes
