"""The SQLite outbox's durable write: an enqueue returns only after a WAL sync that began
after its own commit; concurrent enqueues (threads of one process, and several processes)
share commits and syncs; a failed commit reaches every caller of its group and strands no
one; writers queue in the kernel, not in SQLite's sleeping busy handler."""

import multiprocessing
import os
import threading
import time
from contextlib import contextmanager

import pytest

from webhook_bridge.outbox import base as outbox_base
from webhook_bridge.outbox import open_outbox
from webhook_bridge.outbox import sqlite as sqlite_outbox

PAYLOAD = {"channel": "phone", "source_system": "generic_phone"}


def item(event_id):
    return (event_id, {**PAYLOAD, "external_ref": event_id})


@pytest.fixture
def box(tmp_path):
    return open_outbox(f"sqlite:///{tmp_path}/outbox.sqlite")


@pytest.fixture
def syncs(monkeypatch):
    """Every WAL sync, in order: (moment it began, moment it returned)."""
    calls = []
    real = os.fdatasync

    def fdatasync(fd):
        began = time.monotonic()
        real(fd)
        calls.append((began, time.monotonic()))

    monkeypatch.setattr(sqlite_outbox.os, "fdatasync", fdatasync)
    return calls


def test_an_enqueue_returns_after_a_sync_begun_after_its_commit(box, syncs, monkeypatch):
    committed_at = []
    real_committed = sqlite_outbox.SharedSync.committed

    def committed(self):
        committed_at.append(time.monotonic())
        return real_committed(self)

    monkeypatch.setattr(sqlite_outbox.SharedSync, "committed", committed)
    for n in range(5):
        box.enqueue("telephony/generic", [item(f"e{n}")])
        returned = time.monotonic()
        assert any(committed_at[-1] <= began and done <= returned for began, done in syncs)
    assert len(syncs) == 5  # one at a time: each enqueue waited for its own sync


def test_a_read_only_transaction_does_not_sync(box, syncs):
    box.enqueue("telephony/generic", [item("e1")])
    count = len(syncs)
    box.stats()
    box.get(1)
    box.claim(10, lease=60, now=0)  # nothing due at time 0: nothing written
    assert len(syncs) == count


def test_normal_gives_up_the_sync_and_extra_is_sqlites_own(tmp_path, syncs):
    for mode in ("NORMAL", "EXTRA"):
        box = open_outbox(f"sqlite:///{tmp_path}/{mode}.sqlite", synchronous=mode)
        box.enqueue("telephony/generic", [item("e1")])
    assert syncs == []  # EXTRA syncs inside SQLite (synchronous=EXTRA), not through us
    conn = box._conn()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 3  # EXTRA


def test_concurrent_enqueues_share_commits_and_syncs(box, syncs, monkeypatch):
    transactions = []
    real_run = box.run

    def run(fn, *args, **kwargs):
        transactions.append(1)
        return real_run(fn, *args, **kwargs)

    monkeypatch.setattr(box, "run", run)
    box.enqueue("telephony/generic", [item("warm")])
    slow = threading.Event()
    recorded_sync = os.fdatasync  # the fixture's, which records each call

    def slow_sync(fd):  # a slow disk: callers pile up behind the sync under way
        slow.wait(0.1)
        recorded_sync(fd)

    monkeypatch.setattr(sqlite_outbox.os, "fdatasync", slow_sync)
    results, start = {}, threading.Barrier(16)

    def accept(n):
        start.wait(5)
        results[n] = box.enqueue("telephony/generic", [item(f"t{n}")])

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    writes = len(transactions) - 1  # the 16 callers' (the stats below run one more)
    assert sorted(results) == list(range(16))
    assert all(created for result in results.values() for _, created in result)
    assert len({item_id for result in results.values() for item_id, _ in result}) == 16
    assert box.stats()["states"]["pending"] == 17
    # one sync at a time, each covering every commit before it: the 16 callers share a
    # few (one each would be 16).  Writes go on while a sync runs (each leader passes the
    # lead once committed), so how many transactions depends on when the threads arrive.
    assert len(syncs) - 1 <= 4
    assert 1 <= writes <= 16


def test_callers_sharing_a_transaction_each_get_their_own_groups_results(box, monkeypatch):
    """Calls (one group) and calls with their recordings (two groups, one transaction)
    written together by one leader: each caller gets the ids of its own items, in order."""
    box.enqueue("telephony/generic", [item("warm")])
    real_store, group_sizes = box._store, []

    def store(cur, enqueues):
        group_sizes.append(len(enqueues))
        time.sleep(0.02)  # a slow write: the callers arriving meanwhile queue behind it
        return real_store(cur, enqueues)

    monkeypatch.setattr(box, "_store", store)
    results, start = {}, threading.Barrier(12)

    def accept(n):
        start.wait(5)
        groups = [("telephony/aircall", [item(f"call{n}")])]
        if n % 2:
            groups.append(("recording/aircall", [item(f"rec{n}a"), item(f"rec{n}b")]))
        results[n] = box.enqueue_together(groups)

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert max(group_sizes) > 2  # several callers were written in one transaction
    for n, groups in sorted(results.items()):
        expected = [[f"call{n}"]] + ([[f"rec{n}a", f"rec{n}b"]] if n % 2 else [])
        assert [[box.get(item_id).event_id for item_id, _ in group] for group in groups] \
            == expected
        assert all(created for group in groups for _, created in group)


def test_a_failed_commit_reaches_every_caller_and_the_next_group_goes_on(box, monkeypatch):
    box.enqueue("telephony/generic", [item("warm")])
    real_insert = box._insert
    gate, entered = threading.Event(), threading.Event()

    def insert(cur, provider, items, now):
        if items[0][0] == "first":
            entered.set()
            gate.wait(5)  # hold the first group while others queue behind it
        if any(event_id.startswith("poison") for event_id, _ in items):
            raise RuntimeError("disk full")
        return real_insert(cur, provider, items, now)

    monkeypatch.setattr(box, "_insert", insert)
    outcomes = {}

    def accept(name):
        try:
            outcomes[name] = box.enqueue("telephony/generic", [item(name)])
        except RuntimeError as exc:
            outcomes[name] = exc

    first = threading.Thread(target=accept, args=("first",))
    first.start()
    assert entered.wait(5)
    queued = [threading.Thread(target=accept, args=(name,)) for name in ("poison1", "good1")]
    for t in queued:
        t.start()
    time.sleep(0.2)  # both wait behind "first": they form the next group together
    gate.set()
    for t in [first, *queued]:
        t.join(10)
        assert not t.is_alive()  # nobody stranded
    assert outcomes["first"][0][1] is True
    assert isinstance(outcomes["poison1"], RuntimeError)
    assert isinstance(outcomes["good1"], RuntimeError)  # its group was rolled back
    assert box.enqueue("telephony/generic", [item("good1")])[0][1] is True  # retry: stored
    states = box.stats()["states"]
    assert states["pending"] == 3  # warm, first, good1: nothing of the failed group


def _enqueue_many(url, tag, count, queue):
    box = open_outbox(url)
    ids = []
    for n in range(count):
        ids.extend(item_id for item_id, _ in box.enqueue("telephony/generic",
                                                          [item(f"{tag}-{n}")]))
    queue.put((tag, ids))


def test_several_processes_write_and_sync_together(tmp_path):
    url = f"sqlite:///{tmp_path}/outbox.sqlite"
    open_outbox(url).close()
    queue = multiprocessing.get_context("fork").Queue()
    procs = [multiprocessing.get_context("fork").Process(
        target=_enqueue_many, args=(url, f"p{k}", 150, queue)) for k in range(4)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    ids = [i for tag in sorted(results) for i in results[tag]]
    assert len(ids) == len(set(ids)) == 600
    box = open_outbox(url)
    assert box.stats()["states"]["pending"] == 600
    counters = sqlite_outbox.SharedSync.COUNTERS.unpack_from(
        open(f"{tmp_path}/outbox.sqlite.sync", "rb").read())
    committed, synced = counters
    assert committed >= 600 and synced == committed  # every commit covered by a sync


def test_writers_queue_in_the_kernel_not_in_sqlites_busy_handler(box, monkeypatch):
    """A second writer waits exactly as long as the first holds the database (flock), not
    for the next step of SQLite's 1, 2, 5, 10 ms... sleeps."""
    box.enqueue("telephony/generic", [item("warm")])
    other = open_outbox(box.url)  # as another process would: its own lock file handle
    other._write_lock = sqlite_outbox.ProcessLock(box.path + ".lock")
    held, release = threading.Event(), threading.Event()

    def hold():
        with box.transaction() as cur:
            cur.execute("UPDATE bridge_counters SET value = value")
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    waited = {}
    real_begin = other.begin

    def begin(conn, ddl=False):
        real_begin(conn, ddl=ddl)
        waited.setdefault("acquired", time.monotonic())  # the database is this writer's

    other.begin = begin

    def write():
        other.enqueue("telephony/generic", [item("second")])

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert writer.is_alive() and "acquired" not in waited  # the first writer holds it
    released = time.monotonic()
    release.set()
    holder.join(5)
    writer.join(5)
    lag = waited["acquired"] - released
    # SQLite's busy handler, 300 ms into a wait, polls every 25 to 100 ms: the second
    # writer would get the database tens of ms after the release; queued on the lock, at once
    assert lag < 0.015, lag


def _take_lock_and_report(lock, queue):
    t0 = time.monotonic()
    with lock.held():
        queue.put(time.monotonic() - t0)


def test_a_forked_worker_neither_inherits_nor_skips_the_write_lock(tmp_path):
    """gunicorn forks its workers: a child must wait for the parent's writer (flock) and
    then go on, not block forever on a thread lock copied while held."""
    lock = sqlite_outbox.ProcessLock(str(tmp_path / "outbox.sqlite.lock"))
    with _forked_while_held(lock, _take_lock_and_report, lock) as (child, queue, release):
        time.sleep(0.3)
        assert queue.empty()  # the parent's writer still holds it: the child waits
        release()
        waited = queue.get(timeout=10)  # then the child takes it
        child.join(10)
        assert child.exitcode == 0 and waited >= 0.29


@contextmanager
def _forked_while_held(lock, target, *args):
    """Fork a child running ``target(*args, queue)`` while another thread of this process
    holds ``lock``; yields (child, queue, release), ``release()`` lets the thread go."""
    held, released = threading.Event(), threading.Event()

    def hold():
        with lock.held():
            held.set()
            released.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue), daemon=True)
    child.start()

    def release():
        released.set()
        holder.join(5)

    try:
        yield child, queue, release
    finally:
        release()
        if child.is_alive():
            child.kill()


def test_one_sync_covers_the_commits_of_every_process_made_before_it_began(tmp_path,
                                                                            monkeypatch):
    """Three writers (as three processes: each its own SharedSync and lock file handle).
    The first syncs its commit; the two that commit during that sync wait for it, and then
    one sync covers both: 2 syncs for 3 commits, and none returns before its commit is
    covered."""
    wal = tmp_path / "outbox.sqlite-wal"
    wal.write_bytes(b"frames")
    writers = [sqlite_outbox.SharedSync(str(tmp_path / "outbox.sqlite.sync"), str(wal))
               for _ in range(3)]
    syncing, go_on, synced_upto = threading.Event(), threading.Event(), []
    real = os.fdatasync

    def fdatasync(fd):
        counters = writers[0]._counters()
        synced_upto.append(sqlite_outbox.SharedSync.COUNTERS.unpack_from(counters)[0])
        if len(synced_upto) == 1:  # the first sync is slow: the others commit meanwhile
            syncing.set()
            go_on.wait(5)
        real(fd)

    monkeypatch.setattr(sqlite_outbox.os, "fdatasync", fdatasync)
    returned = {}

    def wait(k, number):
        writers[k].wait_durable(number)
        returned[k] = number

    first = threading.Thread(target=wait, args=(0, writers[0].committed()))
    first.start()
    assert syncing.wait(5)
    later = [threading.Thread(target=wait, args=(k, writers[k].committed())) for k in (1, 2)]
    for t in later:
        t.start()
    time.sleep(0.2)
    assert list(returned) == []  # the sync under way began before their commits
    go_on.set()
    for t in [first, *later]:
        t.join(5)
    assert sorted(returned.values()) == [1, 2, 3]
    assert synced_upto == [1, 3]  # two syncs: the second covers both later commits


def _enqueue_and_report(url, queue):
    box = open_outbox(url)
    queue.put(box.enqueue("telephony/generic", [item("from-the-child")])[0][1])


def test_a_child_forked_while_the_parent_sets_up_its_committer_can_enqueue(tmp_path):
    """The lock around each process's one-time set-up (its group committer) is the child's
    own after a fork: a copy made while a parent's thread held it would be held forever."""
    url = f"sqlite:///{tmp_path}/outbox.sqlite"
    open_outbox(url).close()
    with _forked_while_held(outbox_base.PROCESS_SETUP_LOCK, _enqueue_and_report, url) as (
            child, queue, _):
        assert queue.get(timeout=10) is True  # stored, while the parent's lock is still held
        child.join(10)
        assert child.exitcode == 0
