"""Bridge benchmark (prints figures; not a test).  Loopback only, bounded loops.

1. Accept rate: signed generic telephony webhooks per second under gunicorn, against a no-op
   endpoint served by the same gunicorn, 3 interleaved repetitions, medians (target ratio
   >= 0.6, with an fsync for every acknowledged write); a bad-signature flood beside them.
2. Accept latency: p50/p99 at half the measured maximum accept rate (target p99 <= 25 ms).
3. The outbox alone: durable enqueues per second from 1, 2 and 4 processes (each its own
   closed loop), with the sync on every write (FULL) against without it (NORMAL), interleaved:
   what durability costs, and whether concurrent writers share the disk's flushes.
4. Where an accept's time goes (``--stages``): the no-op, the signature check alone, the
   check and the parsing (normalisation) without storing, the accept without the sync
   (NORMAL) and the accept, interleaved, each with the server's CPU time per request
   (from /proc, the gunicorn workers only).
5. End to end (needs ODOO_URL, ODOO_DB, ODOO_INTAKE_LOGIN, ODOO_INTAKE_API_KEY): cases per
   second into Odoo through the bridge (accept + outbox + worker) against calling intake
   directly with the same batch size (target ratio >= 0.9).

Usage: python bench/bridge_bench.py [--seconds 5] [--clients 8] [--cases 300] [--batch 50]
                                    [--stages]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from webhook_bridge.signatures import standard_sign  # noqa: E402

SECRET = "whsec_YmVuY2gtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="
PATH = "/webhooks/telephony/generic"


def bench_app():
    """gunicorn factory: the real app plus ``POST /noop`` (the baseline)."""
    from flask import jsonify

    from webhook_bridge import create_app

    app = create_app()

    @app.post("/noop")
    def noop():
        return jsonify(status="accepted", delivery_id=0), 202

    @app.post("/stage/<stage>/<kind>/<provider>")
    def stage(stage, kind, provider):
        """The accept path cut short after the signature check or after the parsing."""
        from webhook_bridge.app import _adapter_and_context

        adapter, ctx = _adapter_and_context(kind, provider)
        adapter.verify(ctx)
        if stage == "parse":
            adapter.parse(ctx)
        return jsonify(status="accepted", delivery_id=0), 202

    return app


def call_event(run, i):
    """A call from a caller unique to this run (a block of numbers per run),
    so that every run creates new cases instead of attaching calls to the
    open cases of an earlier run: the compared runs do the same work."""
    block = int(run, 16) % 10**4
    return {"call_id": f"bench-{run}-{i}", "direction": "inbound", "status": "completed",
            "caller_number": f"+86138{block:04d}{i % 10**4:04d}", "callee_number": "+862161234567",
            "duration": 60, "description": "benchmark call"}


def webhook(run, i):
    """(body, headers) of a unique, signed generic call event."""
    event = call_event(run, i)
    call_id = event["call_id"]
    body = json.dumps(event).encode()
    ts = int(time.time())
    return body, {"Content-Type": "application/json", "webhook-id": call_id,
                  "webhook-timestamp": str(ts),
                  "webhook-signature": standard_sign(SECRET, call_id, ts, body)}


def _client(args):
    """One client process: closed loop (rate=None) or paced open loop; returns latencies."""
    port, path, run, start, count, seconds, rate, bad = args
    make = bad_webhook if bad else webhook
    requests = [make(run, start + i) for i in range(count)]  # signed before timing
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, sent = [], 0
    begin = time.perf_counter()
    deadline = begin + seconds
    while sent < count and time.perf_counter() < deadline:
        if rate:
            due = begin + sent / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        body, headers = requests[sent]
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        if response.status not in ((401,) if bad else (200, 202)):
            raise SystemExit(f"{path} answered {response.status}")
        latencies.append(time.perf_counter() - t0)
        sent += 1
    return latencies, time.perf_counter() - begin


def load(port, path, clients, seconds, per_client, rate=None, bad=False):
    run = uuid.uuid4().hex[:8]
    jobs = [(port, path, run, c * per_client, per_client, seconds,
             rate / clients if rate else None, bad) for c in range(clients)]
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_client, jobs)
    latencies = [x for lat, _ in results for x in lat]
    elapsed = max(t for _, t in results)
    return len(latencies) / elapsed, latencies


def bridge_config(tmp, name, **settings):
    """A bridge configuration file in ``tmp`` whose outbox is ``<name>.sqlite``."""
    path = Path(tmp) / f"{name}.json"
    path.write_text(json.dumps({"outbox_url": f"sqlite:///{tmp}/{name}.sqlite",
                                "secrets": {"telephony/generic": [SECRET]},
                                "default_region": "CN", **settings}))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(config_path, workers, threads):
    port = free_port()
    env = {**os.environ, "BRIDGE_CONFIG": str(config_path), "BRIDGE_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads),
         "--worker-class", "gthread" if threads > 1 else "sync",
         "--pythonpath", f"{HERE},{ROOT}", "--log-level", "warning", "bridge_bench:bench_app()"],
        env=env, cwd=ROOT)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def bad_webhook(run, i):
    """A request with a wrong signature (the rejection path)."""
    body, headers = webhook(run, i)
    return body, {**headers, "webhook-signature": "v1,AAAA"}


def median(values):
    return sorted(values)[len(values) // 2]


def accept_bench(args, config_path):
    """Interleaved repetitions: no-op, accept, rejection flood, each ``--reps`` times under
    the same gunicorn and the same clients; the medians are reported."""
    proc, port = start_gunicorn(config_path, args.workers, args.threads)
    noop, accept, reject = [], [], []
    try:
        cap = int(args.seconds * 20000)  # bounded: never more than this per client
        load(port, "/noop", args.clients, 1, 200)  # warm up
        load(port, PATH, args.clients, 1, 200)
        for rep in range(args.reps):
            noop.append(load(port, "/noop", args.clients, args.seconds, cap)[0])
            accept.append(load(port, PATH, args.clients, args.seconds, cap)[0])
            reject.append(load(port, PATH, args.clients, args.seconds, cap, bad=True)[0])
            print(f"  rep {rep + 1}: no-op {noop[-1]:.0f}/s, accept {accept[-1]:.0f}/s "
                  f"(ratio {accept[-1] / noop[-1]:.2f}), rejections {reject[-1]:.0f}/s",
                  flush=True)
        half = median(accept) / 2
        per_client = int(half * args.seconds / args.clients) + 1
        paced_rate, latencies = load(port, PATH, args.clients, args.seconds * 2, per_client,
                                     rate=half)
        _, bad_latencies = load(port, PATH, args.clients, args.seconds * 2, per_client,
                                rate=half, bad=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ratios = [a / n for a, n in zip(accept, noop)]
    print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), "
          f"{args.clients} client processes, {args.seconds:.0f} s per run, "
          f"{args.reps} interleaved repetitions (medians)")
    print(f"no-op endpoint:        {median(noop):8.0f} req/s")
    print(f"accept (generic call): {median(accept):8.0f} req/s   ratio {median(ratios):.2f}"
          f"  (target >= 0.6; fsync on every acknowledged write)")
    print(f"rejections (bad sig.): {median(reject):8.0f} req/s   ratio "
          f"{median([r / n for r, n in zip(reject, noop)]):.2f}")
    print(f"latency at {paced_rate:.0f} req/s (half max): p50 {pct(latencies, 0.5):.2f} ms, "
          f"p99 {pct(latencies, 0.99):.2f} ms  (target p99 <= 25 ms); rejections at that "
          f"rate: p99 {pct(bad_latencies, 0.99):.2f} ms")


def _outbox_writer(job):
    url, mode, tag, count = job
    from webhook_bridge.outbox import open_outbox

    box = open_outbox(url, synchronous=mode)
    payload = {"channel": "phone", "source_system": "generic_phone",
               "call": call_event(tag, 0), "description": "benchmark call"}
    begin = time.perf_counter()
    for i in range(count):
        box.enqueue("telephony/generic", [(f"{tag}-{i}", {**payload,
                                                          "external_ref": f"{tag}-{i}"})])
    return count, time.perf_counter() - begin


def outbox_bench(args, tmp):
    """Interleaved: for each number of processes, FULL then NORMAL, ``--reps`` times."""
    from webhook_bridge.outbox import open_outbox

    rates = {}
    for rep in range(args.reps):
        for procs in (1, 2, 4):
            for mode in ("full", "normal"):
                url = f"sqlite:///{tmp}/outbox-{rep}-{procs}-{mode}.sqlite"
                open_outbox(url, synchronous=mode.upper()).close()
                run = uuid.uuid4().hex[:8]
                with multiprocessing.Pool(procs) as pool:
                    done = pool.map(_outbox_writer, [(url, mode.upper(), f"{run}{k}", args.outbox_writes)
                                                     for k in range(procs)])
                rate = sum(n for n, _ in done) / max(t for _, t in done)
                rates.setdefault((procs, mode), []).append(rate)
    print("outbox alone (SQLite, one enqueue per transaction, closed loops):")
    for procs in (1, 2, 4):
        full, normal = median(rates[(procs, "full")]), median(rates[(procs, "normal")])
        print(f"  {procs} process{'es' if procs > 1 else '  '}: {full:7.0f} durable enqueues/s "
              f"(sync on every write), {normal:7.0f}/s without the sync, ratio "
              f"{median([f / n for f, n in zip(rates[(procs, 'full')], rates[(procs, 'normal')])]):.2f}")


def _server_cpu(proc):
    """CPU seconds used so far by the gunicorn workers of ``proc`` (Linux /proc)."""
    total = 0
    for line in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
        fields = Path(f"/proc/{line}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def stages_bench(args, tmp):
    """Interleaved: each stage of the accept path ``--reps`` times, rate and server CPU."""
    servers = {}
    for mode in ("FULL", "NORMAL"):
        config_path = bridge_config(tmp, f"stages-{mode}", sqlite_synchronous=mode)
        servers[mode] = start_gunicorn(config_path, args.workers, args.threads)
    stages = [("no-op", "FULL", "/noop"),
              ("signature check only", "FULL", "/stage/verify" + PATH[len("/webhooks"):]),
              ("check + parse, not stored", "FULL", "/stage/parse" + PATH[len("/webhooks"):]),
              ("accept without the sync", "NORMAL", PATH),
              ("accept (sync)", "FULL", PATH)]
    rates, cpu = {}, {}
    try:
        for name, mode, path in stages:
            load(servers[mode][1], path, args.clients, 1, 200)  # warm up
        for _ in range(args.reps):
            for name, mode, path in stages:
                proc, port = servers[mode]
                before = _server_cpu(proc)
                rate, latencies = load(port, path, args.clients, args.seconds,
                                       int(args.seconds * 20000))
                rates.setdefault(name, []).append(rate)
                cpu.setdefault(name, []).append((_server_cpu(proc) - before) / len(latencies))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    print(f"where an accept's time goes ({args.clients} clients, medians of {args.reps} "
          f"interleaved runs; server CPU per request, gunicorn workers only):")
    base = rates["no-op"]
    for name, _, _ in stages:
        ratio = median([r / b for r, b in zip(rates[name], base)])
        print(f"  {name:27s} {median(rates[name]):7.0f} req/s  ratio {ratio:.2f}  "
              f"server CPU {median(cpu[name]) * 1e6:5.0f} us/request")


def e2e_bench(args, tmp):
    needed = ("ODOO_URL", "ODOO_DB", "ODOO_INTAKE_LOGIN", "ODOO_INTAKE_API_KEY")
    if not all(os.environ.get(n) for n in needed):
        print("end to end: skipped (set " + ", ".join(needed) + ")")
        return
    from webhook_bridge.config import Config
    from webhook_bridge.delivery import OdooClient, Worker
    from webhook_bridge.outbox import open_outbox

    config = Config.load(environ=os.environ, outbox_url=f"sqlite:///{tmp}/e2e.sqlite",
                         secrets={"telephony/generic": [SECRET]}, batch_size=args.batch,
                         default_region="CN")
    config_path = bridge_config(tmp, "e2e")
    from webhook_bridge import normalize

    # direct: the same canonical payloads, straight into intake, same batch size
    def payloads(run, n):
        return [normalize.call_case({k: v for k, v in e.items() if k != "description"},
                                    source_system="generic_phone", region="CN",
                                    fields={"description": e["description"]})
                for e in (call_event(run, i) for i in range(n))]

    client = OdooClient(config.odoo)
    client.intake(payloads(uuid.uuid4().hex[:8], args.batch))  # warm up Odoo
    direct_payloads = payloads(uuid.uuid4().hex[:8], args.cases)
    t0 = time.perf_counter()
    for i in range(0, len(direct_payloads), args.batch):
        results = client.intake(direct_payloads[i:i + args.batch])
        assert all(r["status"] != "error" for r in results), results
    direct = args.cases / (time.perf_counter() - t0)

    # through the bridge: the same number of webhooks accepted by gunicorn, then one worker
    # delivers them from the outbox (claim, intake, record) with the same batch size
    proc, port = start_gunicorn(config_path, args.workers, args.threads)
    clients = min(args.clients, 4)
    total = (args.cases // clients) * clients
    try:
        load(port, PATH, clients, 600, args.cases // clients)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    outbox = open_outbox(config.outbox_url)
    assert outbox.stats()["states"]["pending"] == total
    worker = Worker(outbox, OdooClient(config.odoo), config)
    worker.client.uid()
    t0 = time.perf_counter()
    worker.drain()
    bridged = total / (time.perf_counter() - t0)
    states = outbox.stats()["states"]
    assert states["delivered"] == total, states
    print(f"end to end, batches of {args.batch}: intake direct {direct:.1f} cases/s, "
          f"through the bridge {bridged:.1f} cases/s, ratio {bridged / direct:.2f} "
          f"(target >= 0.9)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--clients", type=int, default=max(2, os.cpu_count() or 2))
    p.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--cases", type=int, default=400)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--outbox-writes", type=int, default=1500)
    p.add_argument("--skip-accept", action="store_true")
    p.add_argument("--skip-outbox", action="store_true")
    p.add_argument("--stages", action="store_true", help="where an accept's time goes")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as tmp:
        config_path = bridge_config(tmp, "outbox")
        if not args.skip_accept:
            accept_bench(args, config_path)
        if not args.skip_outbox:
            outbox_bench(args, tmp)
        if args.stages:
            stages_bench(args, tmp)
        e2e_bench(args, tmp)


if __name__ == "__main__":
    main()
