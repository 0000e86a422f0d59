"""Outbox logic shared by SQLite and PostgreSQL; subclasses supply connections and dialect.

Table ``bridge_outbox``: one row per accepted provider event, unique on (provider, event_id).
States: ``pending`` -> ``delivered`` | ``dead`` (and ``dead`` -> ``pending`` on replay).
A worker *claims* due pending rows by setting ``claimed_until`` (a short lease, renewed by
the worker's heartbeat while it delivers) and a ``claim_token``; a crashed worker's claims
expire within one lease and are taken again (counted as ``lease_takeovers``).
Table ``bridge_health``: the workers' shared view of Odoo (one row, ``odoo``): when it went
down, the last error, and the next health probe, which only one worker at a time takes.
Table ``bridge_counters``: monotonic counters, one row per (name, process) so processes never
contend, summed for ``/metrics``.
"""

import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
COUNTERS = ("accepted", "duplicate", "rejected", "delivered", "retried", "dead_lettered",
            "lease_takeovers", "bisections", "outages")


class OutboxItem(NamedTuple):
    id: int
    provider: str
    event_id: str
    external_ref: str
    payload: dict
    state: str
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    last_error: str
    result: str


COLUMNS = ", ".join(OutboxItem._fields)


class Outbox:
    placeholder = "?"
    lock_suffix = ""  # PostgreSQL: " FOR UPDATE SKIP LOCKED"
    id_column = ""  # DDL of the id column
    retryable = ()  # exception classes worth retrying a transaction for
    group_commit = False  # concurrent enqueues share one commit (SQLite: one fsync)

    def __init__(self, url, **options):
        self.url = url
        self.options = options
        self._local = threading.local()
        self.shard = f"{socket.gethostname()}:{os.getpid()}"
        with self.transaction(ddl=True) as cur:
            for statement in self.schema():
                cur.execute(statement)

    # --- to implement -----------------------------------------------------------------
    def connect(self):
        raise NotImplementedError

    def begin(self, conn, ddl=False):
        """Start a write transaction (``ddl``: the one creating the schema)."""

    # --- plumbing -----------------------------------------------------------------------
    def schema(self):
        return [
            f"""CREATE TABLE IF NOT EXISTS bridge_outbox (
                id {self.id_column},
                provider TEXT NOT NULL, event_id TEXT NOT NULL, external_ref TEXT,
                payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL,
                created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
                delivered_at DOUBLE PRECISION, claimed_until DOUBLE PRECISION, claim_token TEXT,
                last_error TEXT, result TEXT, UNIQUE (provider, event_id))""",
            """CREATE INDEX IF NOT EXISTS bridge_outbox_due ON bridge_outbox (next_attempt_at)
               WHERE state = 'pending'""",
            """CREATE INDEX IF NOT EXISTS bridge_outbox_state ON bridge_outbox (state, id)""",
            """CREATE TABLE IF NOT EXISTS bridge_counters (
                name TEXT NOT NULL, shard TEXT NOT NULL, value BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (name, shard))""",
            """CREATE TABLE IF NOT EXISTS bridge_health (
                name TEXT PRIMARY KEY, down_since DOUBLE PRECISION,
                next_probe_at DOUBLE PRECISION, failures INTEGER NOT NULL DEFAULT 0,
                last_error TEXT, updated_at DOUBLE PRECISION)""",
        ]

    def _conn(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # never share a connection after fork
            local.conn, local.pid = self.connect(), os.getpid()
        return local.conn

    def _reset(self):
        try:
            self._local.conn.close()
        except Exception:  # noqa: BLE001 - the connection is gone anyway
            pass
        self._local.pid = None

    @contextmanager
    def transaction(self, ddl=False, durable=True):
        """A write transaction; the caller's block must be safe to run again on retry.
        ``durable=False``: the caller calls :meth:`make_durable` itself, later."""
        with self.writer():
            conn = self._conn()
            cur = conn.cursor()
            try:
                self.begin(conn, ddl=ddl)
                yield Cursor(cur, self.placeholder)
                conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    self._reset()
                raise
            finally:
                cur.close()
        if durable:
            self.make_durable()

    def writer(self):
        """Held around each transaction (SQLite: one writer at a time, queued)."""
        return nullcontext()

    def make_durable(self):
        """After a commit, outside :meth:`writer`: return only once this thread's last
        committed transaction is on disk (PostgreSQL: the commit already is)."""

    def run(self, fn, attempts=8, durable=True):
        """Run ``fn(cursor)`` in a transaction, retrying lock/serialization conflicts."""
        for attempt in range(attempts):
            try:
                with self.transaction(durable=durable) as cur:
                    return fn(cur)
            except self.retryable:
                if attempt == attempts - 1:
                    raise
                self._on_retry()
                time.sleep(min(0.5, 0.01 * 2 ** attempt))

    def _on_retry(self):
        pass

    def _bump(self, cur, name, n=1):
        if n:
            cur.execute(
                "INSERT INTO bridge_counters (name, shard, value) VALUES (?, ?, ?) "
                "ON CONFLICT (name, shard) DO UPDATE SET value = bridge_counters.value + ?",
                (name, self.shard, n, n))

    # --- accepting ----------------------------------------------------------------------
    def enqueue(self, provider, items, now=None):
        """Store ``items`` ((event_id, payload) pairs); returns [(id, created), ...].

        An event already stored for this provider is not stored again (``created`` False).
        Returns only once the transaction is committed (durable)."""
        return self.enqueue_together([(provider, items)], now)[0]

    def enqueue_together(self, groups, now=None):
        """Store the items of several providers ((provider, items) each) in one transaction:
        all of them or none (a call and its recording).  Returns each group's results."""
        now = time.time() if now is None else now
        enqueues = [(provider, items, now) for provider, items in groups]
        if self.group_commit:
            return self._committer().submit(enqueues)
        return self.run(lambda cur: self._store(cur, enqueues))

    def _store(self, cur, enqueues):
        """Insert the items of several enqueues ((provider, items, now) each) in one
        transaction and count them once; returns each enqueue's results."""
        results = [self._insert(cur, *enqueue) for enqueue in enqueues]
        created = sum(new for result in results for _, new in result)
        self._bump(cur, "accepted", created)
        self._bump(cur, "duplicate", sum(map(len, results)) - created)
        return results

    def _insert(self, cur, provider, items, now):
        results = []
        for event_id, payload in items:
            cur.execute(
                "INSERT INTO bridge_outbox (provider, event_id, external_ref, payload, "
                "state, attempts, next_attempt_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?) "
                "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
                (provider, event_id, payload.get("external_ref"), json.dumps(payload),
                 now, now, now))
            row = cur.fetchone()
            if row:
                results.append((row[0], True))
            else:
                cur.execute("SELECT id FROM bridge_outbox WHERE provider = ? AND event_id = ?",
                            (provider, event_id))
                results.append((cur.fetchone()[0], False))
        return results

    def _committer(self):
        with PROCESS_SETUP_LOCK.held():
            if getattr(self, "_group", None) is None or self._group.pid != os.getpid():
                self._group = GroupCommitter(self)
        return self._group

    def count(self, name, n=1):
        self.run(lambda cur: self._bump(cur, name, n))

    # --- delivering ---------------------------------------------------------------------
    def claim(self, limit, lease, now=None):
        """Claim up to ``limit`` due pending items for ``lease`` seconds.

        Returns (claim_token, [OutboxItem])."""
        now = time.time() if now is None else now
        token = uuid.uuid4().hex

        def fn(cur):
            cur.execute(
                "SELECT id, claimed_until FROM bridge_outbox WHERE state = 'pending' "
                "AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) "
                "ORDER BY id LIMIT ?" + self.lock_suffix, (now, now, limit))
            rows = cur.fetchall()
            ids = [row[0] for row in rows]
            if not ids:
                return []
            # a lease still set is one that ran out: its worker died or hung
            self._bump(cur, "lease_takeovers", sum(1 for row in rows if row[1] is not None))
            marks = ", ".join("?" * len(ids))
            cur.execute(f"UPDATE bridge_outbox SET claimed_until = ?, claim_token = ? "
                        f"WHERE id IN ({marks})", (now + lease, token, *ids))
            cur.execute(f"SELECT {COLUMNS} FROM bridge_outbox WHERE id IN ({marks}) "
                        f"ORDER BY id", ids)
            return [self._item(row) for row in cur.fetchall()]

        return token, self.run(fn)

    def renew(self, token, ids, lease, now=None):
        """Extend the lease of the items ``ids`` still claimed with ``token`` (the worker's
        heartbeat).  Returns how many the token still holds (0: the lease was lost)."""
        now = time.time() if now is None else now
        ids = list(ids)

        def fn(cur):
            marks = ", ".join("?" * len(ids))
            cur.execute(f"UPDATE bridge_outbox SET claimed_until = ? WHERE id IN ({marks}) "
                        f"AND claim_token = ? AND state = 'pending' "
                        f"AND claimed_until IS NOT NULL", (now + lease, *ids, token))
            return cur.rowcount

        return self.run(fn)

    def finish(self, token, delivered=(), retry=(), dead=(), now=None):
        """Record a delivery round for items claimed with ``token``.

        ``delivered``: [(id, result)]; ``retry``: [(id, error, next_attempt_at)];
        ``dead``: [(id, error)].  Returns how many rows still held the claim."""
        now = time.time() if now is None else now
        claimed = ("AND state = 'pending' AND claim_token = ?")

        def fn(cur):
            done = {"delivered": 0, "retried": 0, "dead_lettered": 0}
            for item_id, result in delivered:
                cur.execute("UPDATE bridge_outbox SET state = 'delivered', result = ?, "
                            "attempts = attempts + 1, delivered_at = ?, updated_at = ?, "
                            f"claimed_until = NULL, last_error = NULL WHERE id = ? {claimed}",
                            (result, now, now, item_id, token))
                done["delivered"] += cur.rowcount
            for item_id, error, when in retry:
                cur.execute("UPDATE bridge_outbox SET attempts = attempts + 1, "
                            "next_attempt_at = ?, last_error = ?, updated_at = ?, "
                            f"claimed_until = NULL WHERE id = ? {claimed}",
                            (when, error, now, item_id, token))
                done["retried"] += cur.rowcount
            for item_id, error in dead:
                cur.execute("UPDATE bridge_outbox SET state = 'dead', attempts = attempts + 1, "
                            "last_error = ?, updated_at = ?, claimed_until = NULL "
                            f"WHERE id = ? {claimed}", (error, now, item_id, token))
                done["dead_lettered"] += cur.rowcount
            for name, n in done.items():
                self._bump(cur, name, n)
            return sum(done.values())

        return self.run(fn)

    # --- Odoo's health, shared by every worker -------------------------------------------
    def health(self, now=None):
        """{"up", "down_since", "down_for", "next_probe_at", "failures", "last_error"}."""
        now = time.time() if now is None else now
        return self.run(lambda cur: self._health(cur, now))

    @staticmethod
    def _health(cur, now):
        cur.execute("SELECT down_since, next_probe_at, failures, last_error FROM bridge_health "
                    "WHERE name = 'odoo'")
        row = cur.fetchone()
        down_since, next_probe, failures, error = row if row else (None, None, 0, None)
        return {"up": down_since is None, "down_since": down_since,
                "down_for": max(0.0, now - down_since) if down_since is not None else 0.0,
                "next_probe_at": next_probe, "failures": failures or 0,
                "last_error": error if down_since is not None else None}

    def mark_down(self, error, probe_delay, now=None):
        """Record that Odoo cannot be reached; the next probe is due in ``probe_delay(n)``
        seconds, n being the number of failures in a row.  Returns True when this call
        started the outage (Odoo was up)."""
        now = time.time() if now is None else now

        def fn(cur):
            cur.execute("INSERT INTO bridge_health (name, failures) VALUES ('odoo', 0) "
                        "ON CONFLICT (name) DO NOTHING")
            cur.execute("SELECT down_since, failures FROM bridge_health WHERE name = 'odoo'"
                        + self.lock_suffix.replace(" SKIP LOCKED", ""))
            down_since, failures = cur.fetchone()
            failures = (failures or 0) + 1
            cur.execute("UPDATE bridge_health SET down_since = ?, next_probe_at = ?, "
                        "failures = ?, last_error = ?, updated_at = ? WHERE name = 'odoo'",
                        (down_since if down_since is not None else now,
                         now + probe_delay(failures), failures, error, now))
            if down_since is None:
                self._bump(cur, "outages")
            return down_since is None

        return self.run(fn)

    def take_probe(self, hold, now=None):
        """While Odoo is down: True for the one worker whose turn it is to probe (the probe
        slot is then held for ``hold`` seconds); False for every other worker."""
        now = time.time() if now is None else now

        def fn(cur):
            cur.execute("UPDATE bridge_health SET next_probe_at = ? WHERE name = 'odoo' "
                        "AND down_since IS NOT NULL AND next_probe_at <= ?", (now + hold, now))
            return cur.rowcount == 1

        return self.run(fn)

    def mark_up(self, now=None):
        """Odoo answered: every worker may deliver again.  Returns the outage's length in
        seconds when this call ended one, else None."""
        now = time.time() if now is None else now

        def fn(cur):
            health = self._health(cur, now)
            if health["up"]:
                return None
            cur.execute("UPDATE bridge_health SET down_since = NULL, next_probe_at = NULL, "
                        "failures = 0, updated_at = ? WHERE name = 'odoo' "
                        "AND down_since IS NOT NULL", (now,))
            return health["down_for"] if cur.rowcount else None

        return self.run(fn)

    # --- dead letters and inspection ----------------------------------------------------
    def get(self, item_id):
        return self.run(lambda cur: self._fetch(
            cur, f"SELECT {COLUMNS} FROM bridge_outbox WHERE id = ?", (item_id,)))

    def list(self, state=DEAD, limit=100):
        def fn(cur):
            cur.execute(f"SELECT {COLUMNS} FROM bridge_outbox WHERE state = ? "
                        f"ORDER BY id LIMIT ?", (state, limit))
            return [self._item(row) for row in cur.fetchall()]

        return self.run(fn)

    def replay(self, ids=None, now=None):
        """Dead items (all, or ``ids``) back to pending, due now.  Returns how many."""
        now = time.time() if now is None else now
        return self._update_dead(
            "UPDATE bridge_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
            "updated_at = ?, claimed_until = NULL WHERE state = 'dead'", (now, now), ids)

    def purge(self, ids=None, older_than=None, now=None):
        """Delete dead items (all, ``ids``, or last updated more than ``older_than`` s ago)."""
        sql, params = "DELETE FROM bridge_outbox WHERE state = 'dead'", ()
        if older_than is not None:
            now = time.time() if now is None else now
            sql, params = sql + " AND updated_at < ?", (now - older_than,)
        return self._update_dead(sql, params, ids)

    def _update_dead(self, sql, params, ids):
        def fn(cur):
            if ids is None:
                cur.execute(sql, params)
                return cur.rowcount
            total = 0
            for item_id in ids:
                cur.execute(sql + " AND id = ?", (*params, item_id))
                total += cur.rowcount
            return total

        return self.run(fn)

    def stats(self, now=None):
        now = time.time() if now is None else now

        def fn(cur):
            cur.execute("SELECT state, COUNT(*) FROM bridge_outbox GROUP BY state")
            states = {PENDING: 0, DELIVERED: 0, DEAD: 0, **dict(cur.fetchall())}
            cur.execute(
                "SELECT MIN(created_at), "
                "SUM(CASE WHEN claimed_until > ? THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN attempts > 0 AND (claimed_until IS NULL OR claimed_until <= ?) "
                "    THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN next_attempt_at > ? AND (claimed_until IS NULL "
                "    OR claimed_until <= ?) THEN 1 ELSE 0 END) "
                "FROM bridge_outbox WHERE state = 'pending'", (now, now, now, now))
            oldest, in_flight, retrying, backing_off = cur.fetchone()
            cur.execute("SELECT name, SUM(value) FROM bridge_counters GROUP BY name")
            counters = {**dict.fromkeys(COUNTERS, 0), **{k: int(v) for k, v in cur.fetchall()}}
            return {"states": states,
                    "oldest_pending_age": max(0.0, now - oldest) if oldest else 0.0,
                    "in_flight": int(in_flight or 0), "retrying": int(retrying or 0),
                    "backing_off": int(backing_off or 0), "counters": counters,
                    "odoo": self._health(cur, now)}

        return self.run(fn)

    def ping(self):
        """Raise unless the outbox takes writes (a write, rolled back)."""
        try:
            with self.transaction() as cur:
                cur.execute("UPDATE bridge_counters SET value = value WHERE name = ?", ("-",))
                raise _Rollback()
        except _Rollback:
            return True

    def close(self):
        if getattr(self._local, "pid", None) == os.getpid():
            self._reset()

    def _fetch(self, cur, sql, params):
        cur.execute(sql, params)
        row = cur.fetchone()
        return self._item(row) if row else None

    @staticmethod
    def _item(row):
        values = list(row)
        values[4] = json.loads(values[4])
        return OutboxItem(*values)


class ForkSafeLock:
    """A lock around a process's one-time set-up that a forked child gets anew: a copy made
    while another thread of the parent held it would be held in the child forever."""

    def __init__(self):
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self):
        self._lock = threading.Lock()

    @contextmanager
    def held(self):
        with self._lock:
            yield


# Guards a process's one-time set-up: its group committer, the SQLite locks' own handles.
PROCESS_SETUP_LOCK = ForkSafeLock()


class GroupCommitter:
    """Group commit without a commit thread: the first caller that finds no commit under way
    becomes the *leader* and writes, in one transaction, its own rows and those of every
    caller of this process that queued meanwhile; those callers just wait.  As soon as that
    transaction is committed, the first caller queued meanwhile leads the next one, while
    this leader waits for the disk (:meth:`Outbox.make_durable`) and then releases its
    group.  An enqueue alone therefore commits in its own thread, with no hand-off; each
    caller returns only once its own rows are durable, or raises the commit's error."""

    MAX_GROUP = 64

    def __init__(self, outbox):
        self.outbox, self.pid = outbox, os.getpid()
        self.lock = threading.Lock()
        self.waiting = []  # jobs not yet written, in arrival order
        self.writing = False  # a leader is writing

    def submit(self, enqueues):
        job = _Job(enqueues)
        with self.lock:
            self.waiting.append(job)
            job.leads = not self.writing
            if job.leads:
                self.writing = True
            else:
                job.done = threading.Event()
        if not job.leads:
            job.done.wait()  # written by a leader, or promoted to lead the next write
        if job.leads:
            self._lead()
        return job.outcome()

    def _lead(self):
        with self.lock:
            group = self.waiting[:self.MAX_GROUP]
            del self.waiting[:self.MAX_GROUP]
        try:
            try:
                results = self.outbox.run(
                    lambda cur: self.outbox._store(cur, [e for job in group for e in job.args]),
                    durable=False)
            finally:
                self._pass_the_lead()
            self.outbox.make_durable()
            for job in group:  # each job's share of the results, in order
                job.result, results = results[:len(job.args)], results[len(job.args):]
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the group
            for job in group:
                job.error = exc
        finally:
            for job in group:
                job.leads = False
                if job.done is not None:
                    job.done.set()

    def _pass_the_lead(self):
        with self.lock:
            if self.waiting:  # queued during this write: the first leads the next one
                self.waiting[0].leads = True
                self.waiting[0].done.set()
            else:
                self.writing = False


class _Job:
    __slots__ = ("args", "done", "leads", "result", "error")

    def __init__(self, args):
        self.args, self.done, self.leads = args, None, False  # args: its enqueues; done: an Event
        self.result = self.error = None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class _Rollback(Exception):
    pass


class Cursor:
    """A DB-API cursor taking ``?`` placeholders whatever the driver's paramstyle."""

    def __init__(self, cur, placeholder):
        self._cur, self._ph = cur, placeholder

    def execute(self, sql, params=()):
        if self._ph != "?":
            sql = sql.replace("?", self._ph)
        return self._cur.execute(sql, tuple(params))

    def __getattr__(self, name):
        return getattr(self._cur, name)
