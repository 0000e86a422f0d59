"""Soak run of the delivery path (prints figures; not a test).  Run it with ``bench/soak``.

10,000 generic call webhooks, signed with the official ``standardwebhooks`` library, are
posted to 3 bridge processes (``webhook-bridge serve``) sharing a PostgreSQL outbox; 3
``webhook-bridge worker`` processes deliver them into Odoo running with ``--workers=2`` or
more.  The callers are new to Odoo and call several times each, their calls close together
(the rule under test: a call from a caller with an open case is attached to that case).

During the run:
1. when ``--kill-worker-at`` items are delivered, one worker is killed with ``kill -9`` (and
   started again, as a supervisor would); its batch must move on within one lease;
2. when the first part of the webhooks is posted and fewer than ``--outage-backlog`` of them
   wait, Odoo is killed with ``kill -9`` (its whole process group); the last
   ``--during-outage`` webhooks are posted while it is down (they must be acknowledged);
   after ``--outage`` seconds Odoo is started again.

It prints: sent, acknowledged, delivered, duplicated, lost, cases per caller, dead letters,
lease takeovers, and the time from Odoo's return to its first delivery and to an empty
queue (target <= 30 s).

Needs (set by ``bench/soak``): SOAK_ODOO_ARGV (the Odoo command line, one word a line,
without ``--http-port``), SOAK_ODOO_PORT, SOAK_ODOO_DB, ODOO_INTAKE_API_KEY,
SOAK_OUTBOX_URL, SOAK_ODOO_DSN (libpq DSN of Odoo's database, to count what arrived).
"""

import argparse
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
import requests
from standardwebhooks import Webhook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from webhook_bridge.outbox import open_outbox  # noqa: E402

SECRET = "whsec_c29hay1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NQ=="
PATH = "/webhooks/telephony/generic"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stamp():
    return time.strftime("%H:%M:%S")


def say(*args):
    print(f"[{stamp()}]", *args, flush=True)


class Proc:
    """A child in its own process group (so that ``kill -9`` takes all of it)."""

    def __init__(self, name, argv, logdir, env=None):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = Path(logdir) / f"{name}.log"
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self.log,
                                     stderr=self.log, start_new_session=True)

    def kill9(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill9()
        self.log.close()


def wait_http(url, timeout, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        if proc is not None and proc.proc.poll() is not None:
            raise SystemExit(f"{proc.name} exited: see {proc.log_path}")
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def answers(url):
    try:
        return requests.get(url + "/web/health", timeout=0.5).status_code == 200
    except requests.RequestException:
        return False


def events(run, total, callers, block):
    """``total`` call events from ``callers`` new callers; each caller's calls fall within
    one block of ``block`` consecutive events, shuffled (close in time, but not adjacent)."""
    rng = random.Random(run)
    base = int(run[:6], 16) % 10**4
    owners = [i % callers for i in range(total)]
    owners.sort()
    out = []
    for start in range(0, total, block):
        chunk = owners[start:start + block]
        rng.shuffle(chunk)
        out.extend(chunk)
    return [{"call_id": f"soak-{run}-{i}", "direction": "inbound", "status": "completed",
             "caller_number": f"+86139{base:04d}{caller:04d}", "callee_number": "+862161234567",
             "duration": 30 + i % 300, "description": "soak call"}
            for i, caller in enumerate(out)]


class Sender:
    """Posts events to the bridges from a few threads; a request that gets no answer is
    sent again with the same webhook id, as a provider would."""

    def __init__(self, bridges, threads):
        self.bridges, self.threads = bridges, threads
        self.acked, self.failed, self.statuses = set(), set(), collections.Counter()
        self.lock = threading.Lock()
        self.webhook = Webhook(SECRET)

    def post(self, events):
        chunks = [events[i::self.threads] for i in range(self.threads)]
        workers = [threading.Thread(target=self._loop, args=(n, chunk))
                   for n, chunk in enumerate(chunks)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()

    def _loop(self, n, chunk):
        session = requests.Session()
        for k, event in enumerate(chunk):
            body = json.dumps(event)
            msg_id = f"msg_{event['call_id']}"
            url = self.bridges[(n + k) % len(self.bridges)] + PATH
            status = None
            for _ in range(5):
                now = datetime.now(tz=timezone.utc)  # signed by the official library
                headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                           "webhook-timestamp": str(int(now.timestamp())),
                           "webhook-signature": self.webhook.sign(msg_id, now, body)}
                try:
                    status = session.post(url, data=body.encode(), headers=headers,
                                          timeout=10).status_code
                except requests.RequestException:
                    status = None
                if status in (200, 202):
                    break
                time.sleep(0.5)
            with self.lock:
                self.statuses[status] += 1
                (self.acked if status in (200, 202) else self.failed).add(event["call_id"])


def odoo_counts(dsn, run):
    """(calls per call id, cases per caller number, cases per external ref) in Odoo."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT call_id, COUNT(*) FROM complaint_call WHERE call_id LIKE %s "
                    "GROUP BY call_id", (f"soak-{run}-%",))
        calls = dict(cur.fetchall())
        cur.execute("SELECT caller_number, COUNT(DISTINCT case_id) FROM complaint_call "
                    "WHERE call_id LIKE %s GROUP BY caller_number", (f"soak-{run}-%",))
        cases_per_caller = dict(cur.fetchall())
        cur.execute("SELECT external_ref, COUNT(*) FROM complaint_case "
                    "WHERE external_ref LIKE %s GROUP BY external_ref", (f"soak-{run}-%",))
        cases = dict(cur.fetchall())
    conn.close()
    return calls, cases_per_caller, cases


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--webhooks", type=int, default=10000)
    p.add_argument("--callers", type=int, default=2500, help="new callers (calls each: "
                   "webhooks / callers)")
    p.add_argument("--block", type=int, default=200,
                   help="a caller's calls fall within this many consecutive webhooks")
    p.add_argument("--bridges", type=int, default=3)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--threads", type=int, default=6, help="sending threads")
    p.add_argument("--kill-worker-at", type=int, default=2000,
                   help="kill -9 a worker when this many items are delivered")
    p.add_argument("--outage", type=float, default=60, help="seconds Odoo stays down")
    p.add_argument("--outage-backlog", type=int, default=300,
                   help="kill Odoo when fewer items than this wait")
    p.add_argument("--during-outage", type=int, default=500,
                   help="webhooks posted while Odoo is down")
    p.add_argument("--timeout", type=float, default=1800, help="give up after this long")
    args = p.parse_args()

    odoo_argv = os.environ["SOAK_ODOO_ARGV"].splitlines()
    odoo_port = os.environ["SOAK_ODOO_PORT"]
    odoo_url = f"http://127.0.0.1:{odoo_port}"
    outbox_url = os.environ["SOAK_OUTBOX_URL"]
    logdir = Path(os.environ.get("SOAK_LOG_DIR") or tempfile.mkdtemp(prefix="soak-"))
    logdir.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:8]
    config = {
        "outbox_url": outbox_url, "secrets": {"telephony/generic": [SECRET]}, "default_region": "CN",
        "log_level": "WARNING",
        "odoo": {"url": odoo_url, "db": os.environ["SOAK_ODOO_DB"],
                 "login": "complaint_intake_bot", "api_key": os.environ["ODOO_INTAKE_API_KEY"]},
    }
    config_path = logdir / "bridge.json"
    config_path.write_text(json.dumps(config))
    env = {**os.environ, "BRIDGE_CONFIG": str(config_path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for name in list(env):
        if name.startswith(("ODOO_", "BRIDGE_")) and name != "BRIDGE_CONFIG":
            del env[name]
    py = [sys.executable, "-m", "webhook_bridge.cli"]

    box = open_outbox(outbox_url)
    start_counters = box.stats()["counters"]

    def counter(name):
        return box.stats()["counters"][name] - start_counters[name]

    say(f"run {run}: {args.webhooks} webhooks from {args.callers} new callers, "
        f"{args.bridges} bridges, {args.workers} workers, logs in {logdir}")
    odoo = Proc("odoo", odoo_argv + [f"--http-port={odoo_port}",
                                     f"--gevent-port={free_port()}"], logdir)
    bridges, workers = [], []
    try:
        wait_http(odoo_url + "/web/health", 180, odoo)
        ports = [free_port() for _ in range(args.bridges)]
        bridges = [Proc(f"bridge-{n}", py + ["serve", "--bind", f"127.0.0.1:{port}",
                                             "--workers", "1", "--threads", "4"],
                        logdir, env) for n, port in enumerate(ports)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, proc in zip(urls, bridges):
            wait_http(url + "/healthz", 60, proc)
        workers = [Proc(f"worker-{n}", py + ["worker"], logdir, env)
                   for n in range(args.workers)]

        all_events = events(run, args.webhooks, args.callers, args.block)
        first, last = all_events[:-args.during_outage], all_events[-args.during_outage:]
        sender = Sender(urls, args.threads)
        t0 = time.time()
        sending = threading.Thread(target=sender.post, args=(first,))
        sending.start()

        marks = {}
        deadline = t0 + args.timeout
        while time.time() < deadline:
            stats = box.stats()
            delivered = stats["states"]["delivered"]
            if "worker_killed" not in marks and delivered >= args.kill_worker_at:
                takeovers = counter("lease_takeovers")
                workers[0].kill9()
                marks["worker_killed"] = time.time()
                marks["delivered_at_worker_kill"] = delivered
                say(f"kill -9 worker-0 ({delivered} delivered)")
                workers[0].start()
            if ("worker_killed" in marks and "takeover" not in marks
                    and counter("lease_takeovers") > takeovers):
                marks["takeover"] = time.time()
                say(f"its batch taken over after "
                    f"{marks['takeover'] - marks['worker_killed']:.1f} s")
            if ("odoo_killed" not in marks and not sending.is_alive()
                    and stats["states"]["pending"] < args.outage_backlog):
                odoo.kill9()
                marks["odoo_killed"] = time.time()
                marks["delivered_at_odoo_kill"] = delivered
                say(f"kill -9 Odoo ({stats['states']['pending']} waiting); posting "
                    f"{len(last)} webhooks while it is down")
                sending = threading.Thread(target=sender.post, args=(last,))
                sending.start()
            if "odoo_killed" in marks and "odoo_started" not in marks \
                    and time.time() - marks["odoo_killed"] >= args.outage:
                odoo.start()
                marks["odoo_started"] = time.time()
                marks["delivered_at_start"] = delivered
                say(f"starting Odoo again ({stats['states']['pending']} waiting)")
            # back: its health page answers, or (under load) a delivery got through first
            if "odoo_started" in marks and "odoo_back" not in marks and (
                    delivered > marks["delivered_at_start"] or answers(odoo_url)):
                marks["odoo_back"] = time.time()
                marks["delivered_at_return"] = delivered
                marks["backlog_at_return"] = stats["states"]["pending"]
                say(f"Odoo answers again ({marks['backlog_at_return']} waiting)")
            if "odoo_back" in marks and "first_after" not in marks \
                    and delivered > marks["delivered_at_return"]:
                marks["first_after"] = time.time()
            if ("odoo_back" in marks and not sending.is_alive()
                    and stats["states"]["pending"] == 0):
                marks["empty"] = time.time()
                break
            time.sleep(0.2)
        sending.join()
        t_end = time.time()
        final = box.stats()
    finally:
        for proc in workers + bridges:
            proc.stop()
        odoo.stop()

    calls, per_caller, cases = odoo_counts(os.environ["SOAK_ODOO_DSN"], run)
    sent = len(all_events)
    acked = sender.acked
    delivered = sum(1 for e in all_events if calls.get(e["call_id"]))
    duplicated = sum(n - 1 for n in calls.values() if n > 1) + \
        sum(n - 1 for n in cases.values() if n > 1)
    lost = sum(1 for ref in acked if not calls.get(ref))
    spread = collections.Counter(per_caller.values())
    callers_seen = len(per_caller)

    def since(a, b):
        return f"{marks[b] - marks[a]:.1f} s" if a in marks and b in marks else "n/a"

    def rate(n_from, n_to, a, b):
        if not all(k in marks for k in (n_from, a, b)) or marks[b] <= marks[a]:
            return "n/a"
        to = marks[n_to] if isinstance(n_to, str) else n_to
        return f"{(to - marks[n_from]) / (marks[b] - marks[a]):.1f} items/s"

    print()
    print(f"soak {run}: {args.bridges} bridges, {args.workers} workers (PostgreSQL outbox), "
          f"Odoo {' '.join(w for w in odoo_argv if w.startswith('--workers'))}; "
          f"{t_end - t0:.0f} s")
    print(f"sent {sent}, acknowledged {len(acked)} (answers {dict(sender.statuses)}), "
          f"delivered {delivered}, duplicated {duplicated}, lost {lost}")
    print(f"outbox: {final['states']}, lease takeovers {counter('lease_takeovers')}, "
          f"retried {counter('retried')}, bisections {counter('bisections')}, "
          f"outages {counter('outages')}")
    print(f"cases per caller ({callers_seen} callers, all cases still open): "
          f"max {max(per_caller.values()) if per_caller else 0}, "
          f"distribution {dict(sorted(spread.items()))}, "
          f"callers with more than one case {sum(n for k, n in spread.items() if k > 1)}")
    print(f"worker kill -9 -> its batch taken over: {since('worker_killed', 'takeover')}")
    print(f"Odoo down (kill -9 -> answering again): {since('odoo_killed', 'odoo_back')}; "
          f"backlog at return {marks.get('backlog_at_return', 'n/a')}")
    print(f"Odoo's return -> first delivery: {since('odoo_back', 'first_after')}; "
          f"-> empty queue: {since('odoo_back', 'empty')} (target <= 30 s)")
    between = rate("delivered_at_worker_kill", "delivered_at_odoo_kill", "worker_killed",
                   "odoo_killed")
    print(f"delivery rate between the two kills: {between}; from the first delivery after Odoo's return to the empty queue: "
          f"{rate('delivered_at_return', final['states']['delivered'], 'first_after', 'empty')}")
    ok = lost == 0 and duplicated == 0 and len(acked) == sent and "empty" in marks
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
