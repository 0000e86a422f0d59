"""The Flask application factory: the webhook blueprint (verify, normalise, persist, answer)
and the operations blueprint (health, readiness, metrics, OpenAPI).

Every request body is read whole before anything looks at it (:class:`WholeBody`): a body
over ``max_body_bytes`` is refused with 413 whether it came with a ``Content-Length`` or
chunked, and is never cut short.  Behind a proxy (``trust_proxy``) werkzeug's ``ProxyFix``
reads the ``X-Forwarded-*`` headers; otherwise they are ignored.
"""

import io
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs, normalize, providers, recordings
from .config import Config
from .delivery import DeliveryError, OdooClient, delivery_status
from .errors import (BridgeError, InvalidFieldError, PayloadTooLargeError, UnavailableError,
                     UnknownProviderError)
from .openapi import openapi
from .outbox import open_outbox

log = logging.getLogger("webhook_bridge.app")
REQUEST_ID_RE = re.compile(r"^[\w.-]{1,64}$", re.ASCII)
TOO_LARGE = "bridge.too_large"


@dataclass
class Bridge:
    """What the blueprints share, in ``app.extensions["bridge"]``."""

    config: Config
    outbox: object
    odoo: OdooClient
    rejections: "RejectionCounter"
    registry: CollectorRegistry = None
    extra: dict = field(default_factory=dict)

    def __getitem__(self, name):  # app.extensions["bridge"]["outbox"] (cli, tests)
        return getattr(self, name)


def bridge():
    return current_app.extensions["bridge"]


def create_app(config=None, outbox=None):
    """``config``: a :class:`Config`, a dict of config keys, or None (environment)."""
    if config is None:
        config = Config.load()
    elif isinstance(config, dict):
        config = Config.from_dict(config)
    config.check_endpoint_secrets(providers.names(config))
    logs.setup(config.log_level, config.default_region)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = config.max_body_bytes
    app.config["MAX_FORM_PARTS"] = config.max_form_parts
    app.json.sort_keys = False
    box = outbox or open_outbox(config.outbox_url, synchronous=config.sqlite_synchronous)
    state = Bridge(config=config, outbox=box, odoo=OdooClient(config.odoo),
                   rejections=RejectionCounter(box))
    state.registry = CollectorRegistry(auto_describe=False)
    state.registry.register(OutboxCollector(state))
    app.extensions["bridge"] = state
    app.register_blueprint(webhooks)
    app.register_blueprint(ops)
    _register_handlers(app)
    app.wsgi_app = WholeBody(app.wsgi_app, config.max_body_bytes)
    if config.trust_proxy:
        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    return app


# --- request plumbing ----------------------------------------------------------------------

class WholeBody:
    """WSGI middleware: a body without ``Content-Length`` (chunked) is read here up to the
    limit; past it the request is marked too large (413), so that no handler ever sees a
    body cut at the limit.  A body within the limit is handed on with its length set."""

    def __init__(self, app, max_bytes):
        self.app, self.max_bytes = app, max_bytes

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if environ.get("REQUEST_METHOD") == "POST" and (chunked or (
                not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"))):
            stream, chunks, size = environ["wsgi.input"], [], 0
            while size <= self.max_bytes:
                chunk = stream.read(min(65536, self.max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > self.max_bytes:
                environ[TOO_LARGE] = True
                chunks = []
            body = b"".join(chunks)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # de-chunked: the length is known
        return self.app(environ, start_response)


def _register_handlers(app):
    config = app.extensions["bridge"].config

    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.environ.get(TOO_LARGE):
            raise PayloadTooLargeError(f"the body is larger than {config.max_body_bytes} "
                                       f"bytes (chunked)", field="body")

    @app.after_request
    def _headers(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.errorhandler(BridgeError)
    def _bridge_error(exc):
        return _reject(exc.status, exc.to_dict())

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.code, "bad_request")
        message = exc.description
        if exc.code == 413:
            length = request.content_length
            message = (f"the body of {length} bytes is larger than {config.max_body_bytes} "
                       f"bytes" if length else f"the body is larger than "
                                               f"{config.max_body_bytes} bytes")
        return _reject(exc.code, {"error": code, "message": message})

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unexpected error")
        return jsonify(error="internal_error", message="internal error",
                       request_id=g.get("request_id")), 500


def _reject(status, body):
    body["request_id"] = g.get("request_id")
    if request.path.startswith("/webhooks/") and 400 <= status < 500:
        log.info("webhook rejected", extra={"path": request.path, "status": status,
                                            "error": body.get("message")})
        bridge().rejections.add()
    return jsonify(body), status


class RejectionCounter:
    """Rejections are counted in memory and added to the outbox counters at most once a
    second by a background thread: a flood of bad requests costs no disk write each."""

    INTERVAL = 1.0

    def __init__(self, outbox):
        self.outbox, self.pending, self.lock = outbox, 0, threading.Lock()
        self._thread_pid = None

    def add(self, n=1):
        with self.lock:
            self.pending += n
            if self._thread_pid != os.getpid():  # one flusher per process (after fork too)
                self._thread_pid = os.getpid()
                threading.Thread(target=self._loop, name="rejection-counter",
                                 daemon=True).start()

    def flush(self):
        with self.lock:
            n, self.pending = self.pending, 0
        if n:
            try:
                self.outbox.count("rejected", n)
            except Exception:  # noqa: BLE001 - counted again at the next flush
                log.warning("could not record %s rejections", n)
                with self.lock:
                    self.pending += n

    def _loop(self):
        while True:
            time.sleep(self.INTERVAL)
            self.flush()


def _event_id(event_id):
    """The outbox deduplication key: the provider's id as is when short and printable,
    else a digest of it (bounded, same id -> same key)."""
    if event_id is None or event_id == "":
        raise InvalidFieldError("event id", "the provider's event id is missing")
    return normalize.bounded_id(event_id)


def _public_url():
    """The URL the provider called (Twilio signs it): the configured public base URL, else
    the request's own URL (with ``trust_proxy``, ProxyFix has applied X-Forwarded-*)."""
    config = bridge().config
    path = request.full_path if request.query_string else request.path
    base = config.public_base_url.rstrip("/")
    if base:
        return base + request.script_root + path
    return request.host_url.rstrip("/") + request.script_root + path


# --- webhooks ------------------------------------------------------------------------------

def _cases_in_time(state, items):
    """Odoo's intake answers for ``items`` (already stored in the outbox), asked at once with
    a short timeout, for a sender whose reply should name the case (WeChat answers within
    5 s). Intake is idempotent on the external reference, so the worker's later delivery of
    the same items answers ``duplicate``; on any failure the reply goes without the case
    and nothing is lost: the items are in the outbox."""
    seconds = state.config.reply_case_timeout
    if not seconds or not state.config.odoo.url:
        return None
    try:
        return state.odoo.intake([item.payload for item in items], timeout=seconds)
    except Exception as exc:  # noqa: BLE001 - the outbox delivers it later
        log.info("no case number for the reply", extra={"error": str(exc)[:200]})
        return None


webhooks = Blueprint("webhooks", __name__)


def _adapter_and_context(kind, provider):
    config = bridge().config
    adapter = providers.get(kind, provider, config)
    if adapter is None:
        raise UnknownProviderError(f"no {kind} provider {provider!r}; known: "
                                   f"{providers.names(config).get(kind, [])}")
    ctx = providers.Context(config=config, kind=kind, provider=provider,
                            request=request._get_current_object(),
                            body=request.get_data(cache=True), public_url_of=_public_url,
                            options=config.forms.get(provider, {}) if kind == "forms" else {})
    return adapter, ctx


@webhooks.get("/webhooks/<kind>/<provider>")
def webhook_handshake(kind, provider):
    """A provider's URL check (WeChat's echo); 405 for the others."""
    adapter, ctx = _adapter_and_context(kind, provider)
    if adapter.handshake is None:
        return _reject(405, {"error": "method_not_allowed",
                             "message": "The method is not allowed for the requested URL."})
    return adapter.handshake(ctx)


@webhooks.post("/webhooks/<kind>/<provider>")
def webhook(kind, provider):
    state = bridge()
    adapter, ctx = _adapter_and_context(kind, provider)
    adapter.verify(ctx)  # raw bytes and headers only: nothing parsed before this passes
    try:
        items = adapter.parse(ctx)
    except providers.Ignored as exc:
        log.info("webhook ignored", extra={"provider": provider, "reason": str(exc)})
        if adapter.respond:
            return adapter.respond(ctx, "ignored", None)
        return jsonify(status="ignored", reason=str(exc)), 200
    items = [providers.Item(_event_id(item.event_id), item.payload) for item in items]
    groups = [(f"{kind}/{provider}", items)]
    audio = recordings.items_for(state.config, kind, provider, items)
    if audio:  # stored with the calls, after them: the call is never held back by its recording
        groups.append((recordings.PREFIX + provider, audio))
    try:
        stored = state.outbox.enqueue_together(groups)[0]
    except Exception as exc:  # noqa: BLE001 - the sender retries; nothing was acknowledged
        log.exception("outbox write failed")
        raise UnavailableError(f"the outbox cannot store the event now "
                               f"({type(exc).__name__}); retry later") from None
    deliveries = [{"delivery_id": item_id, "external_ref": item.payload["external_ref"],
                   "duplicate": not created}
                  for (item_id, created), item in zip(stored, items)]
    fresh = any(created for _, created in stored)
    if log.isEnabledFor(logging.INFO):
        for d, item in zip(deliveries, items):
            call = item.payload.get("call", {})
            log.info("webhook accepted" if not d["duplicate"] else "webhook duplicate",
                     extra={"provider": f"{kind}/{provider}", "delivery_id": d["delivery_id"],
                            "external_ref": d["external_ref"], "status": call.get("status"),
                            "caller": normalize.mask_phone(
                                call.get("caller_number") or
                                item.payload["customer"].get("phone")),
                            "ms": round((time.perf_counter() - g.started) * 1000, 2)})
    if adapter.respond:
        cases = _cases_in_time(state, items) if adapter.reply_with_case else None
        return adapter.respond(ctx, "accepted" if fresh else "duplicate", cases)
    return jsonify(status="accepted" if fresh else "duplicate",
                   delivery_id=deliveries[0]["delivery_id"],
                   deliveries=deliveries), 202 if fresh else 200


# --- operations ----------------------------------------------------------------------------

ops = Blueprint("ops", __name__)


@ops.get("/healthz")
def healthz():
    return jsonify(status="ok")


@ops.get("/readyz")
def readyz():
    state = bridge()
    checks = {}
    try:
        state.outbox.ping()
        checks["outbox"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["outbox"] = f"not writable: {type(exc).__name__}"
    if not state.config.odoo.url:
        checks["odoo"] = "not configured (ODOO_URL)"
    else:
        try:
            state.odoo.version()
            checks["odoo"] = "ok"
        except DeliveryError as exc:
            checks["odoo"] = f"unreachable: {exc}"
    ready = all(v == "ok" for v in checks.values())
    reasons = [f"{name}: {value}" for name, value in checks.items() if value != "ok"]
    try:
        delivery = delivery_status(state.outbox.stats())
    except Exception as exc:  # noqa: BLE001 - already reported by the outbox check
        delivery = {"status": f"unknown: {type(exc).__name__}"}
    return jsonify(status="ready" if ready else "not ready", reasons=reasons,
                   checks=checks, delivery=delivery), 200 if ready else 503


@ops.get("/metrics")
def metrics():
    return generate_latest(bridge().registry), 200, {"Content-Type": CONTENT_TYPE_LATEST}


@ops.get("/openapi.json")
def openapi_json():
    return jsonify(openapi(providers.names(bridge().config)))


class OutboxCollector:
    """Prometheus metrics read from ``outbox.stats()`` at each scrape (shared by every
    process through the outbox).  Counters and numbers the outbox adds to its statistics
    appear without a change here."""

    COUNTERS = {
        "accepted": ("bridge_webhooks_accepted", "Webhook events accepted and queued."),
        "duplicate": ("bridge_webhooks_duplicate", "Webhook events already queued."),
        "rejected": ("bridge_webhooks_rejected", "Webhook requests rejected (4xx)."),
        "delivered": ("bridge_deliveries_delivered", "Items delivered to Odoo."),
        "retried": ("bridge_deliveries_retried", "Delivery attempts to be retried."),
        "dead_lettered": ("bridge_deliveries_dead_lettered", "Items dead-lettered."),
        "lease_takeovers": ("bridge_deliveries_lease_takeovers",
                            "Items taken over from a worker whose lease ran out."),
        "bisections": ("bridge_deliveries_bisections",
                       "Failed batches split in two to isolate a bad item."),
        "outages": ("bridge_odoo_outages", "Times delivery found Odoo unreachable."),
    }

    GAUGES = {
        "in_flight": "Waiting items claimed by a worker right now.",
        "retrying": "Waiting items that failed at least once.",
        "backing_off": "Waiting items not due yet (backoff).",
    }

    def __init__(self, state):
        self.state = state

    def collect(self):
        self.state.rejections.flush()  # a scrape is rare: write this process's count now
        stats = self.state.outbox.stats()
        counters = dict(stats.get("counters", {}))
        for key, value in counters.items():
            name, help_text = self.COUNTERS.get(key, (f"bridge_outbox_{key}",
                                                      f"Outbox counter {key}."))
            yield CounterMetricFamily(name, help_text, value=value)
        states = stats.get("states", {})
        yield GaugeMetricFamily("bridge_outbox_queue_depth", "Items waiting for delivery.",
                                value=states.get("pending", 0))
        yield GaugeMetricFamily("bridge_outbox_dead_letters", "Items in the dead-letter store.",
                                value=states.get("dead", 0))
        yield GaugeMetricFamily("bridge_outbox_oldest_item_age_seconds",
                                "Age of the oldest waiting item.",
                                value=round(stats.get("oldest_pending_age", 0.0), 3))
        for key, value in stats.items():  # whatever else the outbox reports (gauges)
            if key not in ("counters", "states", "oldest_pending_age") and \
                    isinstance(value, (int, float)) and not isinstance(value, bool):
                yield GaugeMetricFamily(f"bridge_outbox_{key}",
                                        self.GAUGES.get(key, f"Outbox statistic {key}."),
                                        value=value)
        odoo = stats.get("odoo")
        if odoo:
            yield GaugeMetricFamily("bridge_odoo_up",
                                    "1 unless the workers found Odoo unreachable.",
                                    value=int(odoo["up"]))
            yield GaugeMetricFamily("bridge_odoo_down_seconds",
                                    "How long Odoo has been unreachable (0: it is up).",
                                    value=round(odoo["down_for"], 3))
