"""A design tried for issue 15 and not kept: one writer process for the whole bridge.

The request threads of every process hand their items over a Unix socket to a single writer
process, which stores each batch of requests in one transaction and one sync (what the
outbox's group commit does within a process, here across all of them).  This script
measures it side by side with the bridge's own accept path, interleaved, by calling the
WSGI application directly (no HTTP, no gunicorn: the server's cost is left out on purpose,
only the accept path is compared) from ``--procs`` processes × ``--threads`` threads, and
prints the CPU each accept costs: in the request processes, in the writer, and in total
(user + system, from ``os.times`` and ``/proc``).  Prints figures; not a test.

Usage: python bench/writer_process_trial.py [--procs 2] [--threads 4] [--requests 1000]
"""

import argparse
import io
import json
import multiprocessing
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bridge_bench  # noqa: E402

FRAME = struct.Struct("!I")


# --- the writer process ----------------------------------------------------------------------

def serve(url, path, stats_path):
    """Read framed requests from every connection; store what arrived together in one
    transaction, sync once (the outbox's own write lock and shared sync), answer each."""
    from webhook_bridge.outbox import open_outbox

    outbox = open_outbox(url, synchronous="FULL")
    conn = outbox._conn()
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(128)
    server.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ, None)
    buffers, counts = {}, [0, 0]  # batches, requests: written to stats_path on SIGTERM

    def stop(*_):
        Path(stats_path).write_text(json.dumps(counts))
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        jobs, timeout = [], None
        while True:  # everything readable now, then write it as one batch
            ready = selector.select(timeout)
            if not ready:
                break
            for key, _ in ready:
                if key.data is None:
                    client, _ = server.accept()
                    client.setblocking(False)
                    buffers[client] = bytearray()
                    selector.register(client, selectors.EVENT_READ, client)
                    continue
                client = key.data
                try:
                    data = client.recv(262144)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(client)
                    client.close()
                    del buffers[client]
                    continue
                buffer = buffers[client]
                buffer += data
                while len(buffer) >= FRAME.size:
                    size = FRAME.unpack_from(buffer)[0]
                    if len(buffer) < FRAME.size + size:
                        break
                    jobs.append((client, json.loads(bytes(buffer[FRAME.size:FRAME.size + size]))))
                    del buffer[:FRAME.size + size]
            timeout = 0
        if not jobs:
            continue
        counts[0], counts[1] = counts[0] + 1, counts[1] + len(jobs)
        with outbox._write_lock.held():  # the outbox's own lock, insert and shared sync
            conn.execute("BEGIN IMMEDIATE")
            results = outbox._store(conn.cursor(), [group for _, groups in jobs
                                                    for group in groups])
            conn.commit()
            number = outbox._sync.committed()
        outbox._sync.wait_durable(number)
        for client, groups in jobs:  # each request's share of the results, in order
            answer = json.dumps(results[:len(groups)]).encode()
            results = results[len(groups):]
            client.sendall(FRAME.pack(len(answer)) + answer)


class WriterClient:
    """``enqueue_together`` over the socket, one connection per thread."""

    def __init__(self, path):
        self.path, self.local = path, threading.local()

    def enqueue_together(self, groups, now=None):
        now = time.time() if now is None else now
        sock = getattr(self.local, "sock", None)
        if sock is None:
            sock = self.local.sock = socket.socket(socket.AF_UNIX)
            sock.connect(self.path)
        body = json.dumps([(provider, items, now) for provider, items in groups]).encode()
        sock.sendall(FRAME.pack(len(body)) + body)
        data = b""
        while len(data) < FRAME.size or len(data) < FRAME.size + FRAME.unpack_from(data)[0]:
            more = sock.recv(65536)
            if not more:
                raise ConnectionError("the writer process is gone")
            data += more
        return [[tuple(result) for result in group] for group in json.loads(data[FRAME.size:])]


# --- load ------------------------------------------------------------------------------------

def environ(path, body, headers):
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
           "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1"}
    for name, value in headers.items():
        name = name.upper().replace("-", "_")
        env[name if name == "CONTENT_TYPE" else "HTTP_" + name] = value
    return env


def _load(job):
    """One request process: ``threads`` threads posting ``count`` signed calls each."""
    config_path, writer_socket, run, threads, count = job
    os.environ["BRIDGE_CONFIG"] = str(config_path)
    app = bridge_bench.bench_app()
    if writer_socket:
        app.extensions["bridge"].outbox.enqueue_together = \
            WriterClient(writer_socket).enqueue_together
    batches = [[environ(bridge_bench.PATH, *bridge_bench.webhook(run, t * 10**6 + i))
                for i in range(count)] for t in range(threads)]

    def post(requests):
        for env in requests:
            status = []
            b"".join(app(env, lambda s, h, e=None: status.append(s)))
            if not status[0].startswith("202"):
                raise SystemExit(f"answered {status[0]}")

    workers = [threading.Thread(target=post, args=(b,)) for b in batches]
    before, began = os.times(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    after = os.times()
    return (after.user - before.user + after.system - before.system,
            time.perf_counter() - began)


def _cpu_of(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--requests", type=int, default=1000, help="per thread and run")
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    os.environ.setdefault("BRIDGE_LOG_LEVEL", "WARNING")
    figures = {"bridge": [], "writer process": []}
    with tempfile.TemporaryDirectory(prefix="writer-trial-") as tmp:
        for rep in range(args.reps):
            for design in figures:
                name = f"{design.replace(' ', '-')}-{rep}"
                config_path = bridge_bench.bridge_config(tmp, name)
                writer, sock = None, None
                if design == "writer process":
                    sock, stats = f"{tmp}/{name}.sock", f"{tmp}/{name}.stats"
                    from webhook_bridge.outbox import open_outbox

                    open_outbox(f"sqlite:///{tmp}/{name}.sqlite").close()
                    writer = subprocess.Popen([sys.executable, __file__, "--serve",
                                               f"sqlite:///{tmp}/{name}.sqlite", sock, stats])
                    while not os.path.exists(sock):
                        time.sleep(0.02)
                writer_cpu = _cpu_of(writer.pid) if writer else 0.0
                run = os.urandom(4).hex()
                with multiprocessing.get_context("fork").Pool(args.procs) as pool:
                    done = pool.map(_load, [(config_path, sock, f"{run}{k}", args.threads,
                                             args.requests) for k in range(args.procs)])
                total = args.procs * args.threads * args.requests
                request_cpu = sum(cpu for cpu, _ in done) / total
                batch = ""
                if writer:
                    writer_cpu = (_cpu_of(writer.pid) - writer_cpu) / total
                    writer.terminate()
                    writer.wait()
                    batches, requests = json.loads(Path(stats).read_text())
                    batch = f", {requests / batches:.1f} requests per batch"
                rate = total / max(wall for _, wall in done)
                figures[design].append((request_cpu, writer_cpu, rate))
                print(f"  rep {rep + 1} {design:15s} {rate:6.0f} accepts/s, CPU per accept: "
                      f"request side {request_cpu * 1e6:4.0f} us, writer {writer_cpu * 1e6:4.0f} us"
                      f"{batch}", flush=True)
    print(f"{args.procs} processes x {args.threads} threads calling the WSGI app, "
          f"{args.reps} interleaved repetitions, medians (requests signed before the clock):")
    for design, rows in figures.items():
        med = [bridge_bench.median([row[k] for row in rows]) for k in range(3)]
        print(f"  {design:15s} request side {med[0] * 1e6:4.0f} us + writer {med[1] * 1e6:4.0f} us"
              f" = {(med[0] + med[1]) * 1e6:4.0f} us of CPU per accept, {med[2]:6.0f} accepts/s")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(*sys.argv[2:])
    else:
        main()
