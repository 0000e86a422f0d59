"""Delivery at scale, on SQLite and on PostgreSQL: a poison item is isolated by bisection,
the queue comes back within seconds after an outage behind a single prober, and a worker
killed with ``kill -9`` loses its batch within one short lease (real processes)."""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_odoo import FakeOdoo, OdooError
from helpers import bridge_config, wait_for

from webhook_bridge import create_app
from webhook_bridge.config import Config
from webhook_bridge.delivery import OdooClient, Worker
from webhook_bridge.outbox import open_outbox

ROOT = Path(__file__).resolve().parents[2]


def payload(ref, **extra):
    return {"channel": "phone", "source_system": "generic_phone", "external_ref": ref,
            "call": {"caller_number": "+8613800138000"}, **extra}


def enqueue(box, refs):
    box.enqueue("telephony/generic", [(ref, payload(ref)) for ref in refs])


def worker(box, config):
    return Worker(box, OdooClient(config.odoo), config)


def poison(fake, bad_ref, name="builtins.ValueError",
           message="A string literal cannot contain NUL (0x00) characters."):
    """The whole intake call fails whenever ``bad_ref`` is in it (as a NUL byte did)."""
    original = fake.intake

    def intake(payloads):
        if any(p["external_ref"] == bad_ref for p in payloads):
            with fake.lock:
                fake.intake_calls += 1
                fake.received.extend(p for p in payloads if p["external_ref"] == bad_ref)
            raise OdooError(name, message)
        return original(payloads)

    fake.intake = intake


# --- poison items ---------------------------------------------------------------------

@pytest.mark.parametrize("error", ["builtins.ValueError", "odoo.exceptions.ValidationError"])
def test_poison_item_is_bisected_out(outbox, fake_odoo, make_config, error):
    """One bad item among 15: the 14 good ones are delivered in the first round, with
    about 2·log2(n) calls; the bad one alone is retried, then dead-lettered."""
    config = make_config(outbox_url=outbox.url, odoo=fake_odoo.config(), batch_size=15,
                         max_attempts=3, retry_base_seconds=0)
    refs = [f"p-{i}" for i in range(15)]
    enqueue(outbox, refs)
    poison(fake_odoo, "p-9", name=error)
    w = worker(outbox, config)
    assert w.run_once() == 15  # one round
    states = outbox.stats()["states"]
    assert states["delivered"] == 14
    assert all(fake_odoo.count(r) == 1 for r in refs if r != "p-9")
    assert fake_odoo.intake_calls <= 1 + 2 * math.ceil(math.log2(15))
    bad = outbox.list("dead" if "Validation" in error else "pending")
    assert [i.external_ref for i in bad] == ["p-9"] and error in bad[0].last_error
    w.drain()
    dead = outbox.list("dead")
    assert [i.external_ref for i in dead] == ["p-9"]
    assert dead[0].attempts == (1 if "Validation" in error else 3)
    assert outbox.stats()["states"] == {"pending": 0, "delivered": 14, "dead": 1}
    assert outbox.stats()["counters"]["bisections"] >= math.ceil(math.log2(15))
    assert all(fake_odoo.count(r) == 1 for r in refs if r != "p-9")  # nothing twice


def test_two_poison_items_and_a_conflict_are_not_bisected(outbox, fake_odoo, make_config):
    config = make_config(outbox_url=outbox.url, odoo=fake_odoo.config(), batch_size=8,
                         max_attempts=2)
    enqueue(outbox, [f"q-{i}" for i in range(8)])
    poison(fake_odoo, "q-1")
    original = fake_odoo.intake
    fake_odoo.intake = lambda p: original(p) if all(x["external_ref"] != "q-6" for x in p) \
        else (_ for _ in ()).throw(OdooError("builtins.KeyError", "q-6 is bad too"))
    worker(outbox, config).drain()
    assert sorted(i.external_ref for i in outbox.list("dead")) == ["q-1", "q-6"]
    assert outbox.stats()["states"]["delivered"] == 6
    # a database conflict is the batch's bad luck, not an item's: retried whole, no split
    enqueue(outbox, ["r-0", "r-1"])
    fake_odoo.fail_with = "psycopg2.errors.SerializationFailure"
    before = outbox.stats()["counters"]["bisections"]
    worker(outbox, config).run_once()
    assert outbox.stats()["counters"]["bisections"] == before
    assert [i.attempts for i in outbox.list("pending")] == [1, 1]


# --- outages --------------------------------------------------------------------------

def test_outage_recovery_within_seconds_with_one_prober(outbox, make_config):
    """A long outage (many failed probes) does not push the queue out by minutes: when Odoo
    answers again, three workers empty it within about one probe interval; during the
    outage one probe at a time reaches Odoo, not one per worker per poll."""
    fake = FakeOdoo()
    fake.start()
    try:
        config = make_config(outbox_url=outbox.url, odoo=fake.config(), batch_size=10,
                             retry_base_seconds=2, retry_max_seconds=600,
                             probe_max_seconds=0.4, poll_interval=0.02)
        refs = [f"o-{i}" for i in range(60)]
        enqueue(outbox, refs)
        fake.http_status = 503  # a proxy in front of a dead Odoo
        stop = threading.Event()
        workers = [worker(open_outbox(outbox.url), config) for _ in range(3)]
        threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
        for t in threads:
            t.start()
        try:
            assert wait_for(lambda: not outbox.health()["up"], 10)
            time.sleep(3)
            health = outbox.health()
            assert not health["up"] and health["failures"] >= 5 and "503" in health["last_error"]
            # 3 workers polling every 20 ms: ~450 requests if each probed; one prober at
            # growing intervals (capped at 0.4 s) makes at most ~3 s / 0.2 s + the batches
            assert fake.requests <= 30, fake.requests
            stats = outbox.stats()
            assert stats["states"]["pending"] == 60 and stats["backing_off"] == 0
            assert stats["odoo"]["down_for"] >= 3 and stats["counters"]["outages"] == 1
            fake.http_status = None
            back = time.time()
            assert wait_for(lambda: outbox.stats()["states"]["delivered"] == 60, 10)
            recovery = time.time() - back
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        assert recovery < 3, recovery  # the per-item backoff would have been up to 600 s
        assert [fake.count(r) for r in refs] == [1] * 60
        assert outbox.health()["up"]
    finally:
        fake.stop()


def test_first_answer_after_outage_resets_the_queue(outbox, make_config):
    """The items in flight when Odoo died are due again at once, whatever their attempts."""
    fake = FakeOdoo()
    fake.start()
    port = fake.port
    config = make_config(outbox_url=outbox.url, odoo=fake.config(), retry_base_seconds=60,
                         probe_max_seconds=0.1)
    enqueue(outbox, ["x-0", "x-1"])
    fake.stop()
    w = worker(outbox, config)
    for _ in range(5):
        w.run_once()
        time.sleep(0.12)
    items = outbox.list("pending")
    assert [i.attempts for i in items] == [1, 1]
    assert all(i.next_attempt_at <= time.time() for i in items)  # no 60 s backoff
    fake = FakeOdoo(port).start()
    try:
        time.sleep(0.12)
        assert w.drain() == 2 and fake.count("x-0") == fake.count("x-1") == 1
        assert outbox.health()["up"]
    finally:
        fake.stop()


# --- leases ---------------------------------------------------------------------------

def test_lease_renewal_and_takeover(outbox):
    enqueue(outbox, ["l-0", "l-1", "l-2"])
    t = time.time()
    token, items = outbox.claim(10, lease=2, now=t)
    ids = [i.id for i in items]
    assert len(items) == 3 and outbox.stats(now=t)["in_flight"] == 3
    assert outbox.claim(10, lease=2, now=t + 1)[1] == []  # held
    assert outbox.renew(token, ids, lease=2, now=t + 1.5) == 3  # heartbeat
    assert outbox.claim(10, lease=2, now=t + 3)[1] == []  # still held: renewed to t + 3.5
    other, taken = outbox.claim(10, lease=2, now=t + 4)  # the heartbeat stopped: taken over
    assert [i.id for i in taken] == ids
    assert outbox.stats()["counters"]["lease_takeovers"] == 3
    assert outbox.renew(token, ids, lease=2, now=t + 4) == 0  # the first worker lost it
    assert outbox.finish(token, delivered=[(ids[0], "created X")]) == 0  # records nothing
    assert outbox.finish(other, delivered=[(i, "created Y") for i in ids]) == 3
    assert outbox.get(ids[0]).result == "created Y"
    assert outbox.claim(10, lease=2, now=t + 10)[1] == []
    assert outbox.stats()["counters"]["lease_takeovers"] == 3


# --- leases: real worker processes, kill -9 -------------------------------------------

def start_worker(tmp_path, config, name):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "BRIDGE_CONFIG": str(path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    log = open(tmp_path / f"{name}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "webhook_bridge.cli", "worker"], env=env,
                            cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    proc.log = log
    return proc


def kill9(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.log.close()


def test_killed_worker_loses_its_batch_within_a_lease(outbox, fake_odoo, tmp_path):
    """Worker A takes a batch and is killed with -9 while Odoo works on it; worker B takes
    the batch over when A's 2 s lease runs out, not minutes later; a slow batch of a live
    worker (longer than its lease) is not taken over: its heartbeat renews the lease."""
    config = bridge_config(tmp_path, outbox_url=outbox.url, odoo=fake_odoo.config(),
                           claim_lease_seconds=2, poll_interval=0.1, batch_size=5,
                           log_level="INFO")
    enqueue(outbox, [f"k-{i}" for i in range(5)])
    fake_odoo.delay = 30  # A's call hangs: A dies with its batch claimed
    a = start_worker(tmp_path, config, "a")
    try:
        assert wait_for(lambda: outbox.stats()["in_flight"] == 5, 20)
    finally:
        kill9(a)
    killed = time.time()
    fake_odoo.delay = 1.5  # B's batch (authenticate, intake) outlasts the 2 s lease
    b = start_worker(tmp_path, config, "b")
    c = None
    try:
        assert wait_for(lambda: outbox.stats()["counters"]["lease_takeovers"] == 5, 15)
        taken = time.time() - killed
        assert taken < 2 + 3, taken  # lease + B's start-up and poll
        c = start_worker(tmp_path, config, "c")  # polls while B's batch is slow
        assert wait_for(lambda: outbox.stats()["states"]["delivered"] == 5, 15)
        time.sleep(0.5)
    finally:
        for proc in (b, c):
            if proc:
                kill9(proc)
    assert outbox.stats()["counters"]["lease_takeovers"] == 5  # C took nothing from B
    assert [fake_odoo.count(f"k-{i}") for i in range(5)] == [1] * 5


# --- operators ------------------------------------------------------------------------

def test_metrics_and_readyz_say_what_delivery_is_doing(tmp_path, fake_odoo):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), probe_max_seconds=30,
                                   retry_base_seconds=30))
    box = app.extensions["bridge"]["outbox"]
    enqueue(box, ["m-0", "m-1", "m-2"])
    config = Config.from_dict(bridge_config(tmp_path, odoo=fake_odoo.config(),
                                            retry_base_seconds=30, probe_max_seconds=30))
    fake_odoo.http_status = 502
    worker(box, config).run_once()
    fake_odoo.http_status = None  # Odoo answers /readyz, but the workers saw it down
    client = app.test_client()
    ready = client.get("/readyz").get_json()
    assert ready["delivery"]["status"] == "degraded"
    assert ready["delivery"]["queue_depth"] == 3 and not ready["delivery"]["odoo_up"]
    assert any("cannot reach Odoo" in r and "502" in r and "3 items wait" in r
               for r in ready["delivery"]["reasons"])
    fake_odoo.stop()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert any(r.startswith("odoo: unreachable") for r in not_ready.get_json()["reasons"])
    text = client.get("/metrics").get_data(as_text=True)
    metrics = {name: float(value) for name, value in
               (line.rsplit(" ", 1) for line in text.splitlines()
                if line and not line.startswith("#"))}
    assert metrics["bridge_outbox_queue_depth"] == 3
    assert metrics["bridge_odoo_up"] == 0 and metrics["bridge_odoo_down_seconds"] >= 0
    assert metrics["bridge_deliveries_retried_total"] == 3
    assert metrics["bridge_odoo_outages_total"] == 1
    assert metrics["bridge_outbox_oldest_item_age_seconds"] > 0
    for name in ("bridge_deliveries_lease_takeovers_total", "bridge_outbox_in_flight",
                 "bridge_deliveries_bisections_total", "bridge_outbox_retrying"):
        assert name in metrics


def test_cli_worker_once_and_stats_during_an_outage(tmp_path, fake_odoo, monkeypatch, capsys):
    from webhook_bridge import cli

    config = bridge_config(tmp_path, odoo=fake_odoo.config(), retry_base_seconds=30)
    path = tmp_path / "bridge.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("BRIDGE_CONFIG", str(path))
    enqueue(open_outbox(config["outbox_url"]), ["c-0", "c-1"])
    fake_odoo.stop()
    assert cli.main(["worker", "--once"]) == 0
    assert cli.main(["worker", "--once"]) == 0  # Odoo is down: nothing claimed, no error
    capsys.readouterr()
    assert cli.main(["stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["states"]["pending"] == 2 and stats["odoo"]["up"] is False
    assert stats["counters"]["outages"] == 1 and stats["counters"]["retried"] == 2
    assert stats["delivery"]["status"] == "degraded"
    assert "cannot reach Odoo: ConnectionError" in stats["delivery"]["reasons"][0]
