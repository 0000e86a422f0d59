"""``webhook-bridge``: serve, worker, deadletters list|show|replay|purge, stats.

Configuration comes from ``BRIDGE_*``/``ODOO_*`` environment variables and the optional file
named by ``--config`` or ``BRIDGE_CONFIG`` (JSON or TOML).
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

from . import logs
from .config import Config
from .delivery import OdooClient, Worker, delivery_status
from .outbox import open_outbox

log = logging.getLogger("webhook_bridge.cli")


def _config(args):
    return Config.load(path=args.config)


def _outbox(config):
    return open_outbox(config.outbox_url, synchronous=config.sqlite_synchronous)


def _worker(config, outbox=None):
    return Worker(outbox or _outbox(config), OdooClient(config.odoo), config)


def gunicorn_settings(config):
    """gunicorn's own reading of proxy headers, matched to ``trust_proxy``: without it,
    gunicorn trusts no one (its default trusts ``X-Forwarded-Proto`` from 127.0.0.1);
    with it, the configured proxies (ProxyFix in the app reads the headers)."""
    allowed = config.forwarded_allow_ips if config.trust_proxy else ""
    return {"forwarded_allow_ips": allowed,
            "proxy_allow_ips": allowed or "127.0.0.1"}


def cmd_serve(args):
    from gunicorn.app.base import BaseApplication

    from .app import create_app

    from . import providers

    config = _config(args)
    config.check_endpoint_secrets(providers.names(config))  # fail early, before forking
    _outbox(config).close()  # create the schema (and fail early) before forking workers

    def post_worker_init(worker):
        if args.with_worker:  # the one-command demo: each web worker also delivers
            app = worker.wsgi
            thread = threading.Thread(
                target=Worker(app.extensions["bridge"]["outbox"],
                              app.extensions["bridge"]["odoo"], config).run,
                name="delivery", daemon=True)
            thread.start()

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": args.bind, "workers": args.workers, "threads": args.threads,
                "worker_class": "gthread" if args.threads > 1 else "sync",
                "timeout": 30, "graceful_timeout": 10, "accesslog": None,
                "post_worker_init": post_worker_init, "proc_name": "webhook-bridge",
                **gunicorn_settings(config),
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(config)

    Server().run()


def cmd_worker(args):
    config = _config(args)
    worker = _worker(config)
    if args.once:
        print(json.dumps({"delivered_or_rescheduled": worker.drain()}))
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.run(stop)
    return 0


def _row(item, full=False):
    row = {"id": item.id, "provider": item.provider, "event_id": item.event_id,
           "external_ref": item.external_ref, "state": item.state, "attempts": item.attempts,
           "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(item.updated_at)),
           "last_error": item.last_error}
    if full:
        row["payload"] = item.payload
        row["result"] = item.result
    return row


def cmd_deadletters(args):
    outbox = _outbox(_config(args))
    ids = [int(i) for i in getattr(args, "ids", None) or []] or None
    if args.action in ("replay", "purge") and ids is None and not args.all:
        print("name the ids, or pass --all", file=sys.stderr)
        return 2
    if args.action == "list":
        for item in outbox.list("dead", args.limit):
            print(json.dumps(_row(item), ensure_ascii=False))
    elif args.action == "show":
        item = outbox.get(args.id)
        if item is None:
            print(f"no item {args.id}", file=sys.stderr)
            return 1
        print(json.dumps(_row(item, full=True), indent=2, ensure_ascii=False))
    elif args.action == "replay":
        print(json.dumps({"replayed": outbox.replay(ids)}))
    elif args.action == "purge":
        older = args.older_than_days * 86400 if args.older_than_days is not None else None
        print(json.dumps({"purged": outbox.purge(ids, older_than=older)}))
    return 0


def cmd_stats(args):
    stats = _outbox(_config(args)).stats()
    print(json.dumps({**stats, "delivery": delivery_status(stats)}, indent=2,
                     ensure_ascii=False))
    return 0


def parser():
    p = argparse.ArgumentParser(prog="webhook-bridge", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="JSON or TOML config file (default: $BRIDGE_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP service under gunicorn")
    s.add_argument("--bind", default=os.environ.get("BRIDGE_BIND", "127.0.0.1:8000"))
    s.add_argument("--workers", type=int, default=int(os.environ.get("BRIDGE_WORKERS", 2)))
    s.add_argument("--threads", type=int, default=int(os.environ.get("BRIDGE_THREADS", 1)))
    s.add_argument("--with-worker", action="store_true",
                   help="also deliver from inside the web processes (demo)")
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("worker", help="deliver queued items to Odoo")
    w.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    w.set_defaults(func=cmd_worker)

    d = sub.add_parser("deadletters", help="inspect, replay or purge dead letters")
    dsub = d.add_subparsers(dest="action", required=True)
    dl = dsub.add_parser("list")
    dl.add_argument("--limit", type=int, default=100)
    ds = dsub.add_parser("show")
    ds.add_argument("id", type=int)
    dr = dsub.add_parser("replay")
    dr.add_argument("ids", nargs="*")
    dr.add_argument("--all", action="store_true")
    dp = dsub.add_parser("purge")
    dp.add_argument("ids", nargs="*")
    dp.add_argument("--all", action="store_true")
    dp.add_argument("--older-than-days", type=float)
    d.set_defaults(func=cmd_deadletters)

    st = sub.add_parser("stats", help="outbox states, oldest item age, counters, Odoo's "
                                      "health as the workers see it, what is degraded")
    st.set_defaults(func=cmd_stats)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    logs.setup(os.environ.get("BRIDGE_LOG_LEVEL", "INFO"))
    try:
        return args.func(args) or 0
    except (ValueError, RuntimeError) as exc:
        print(f"webhook-bridge: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
