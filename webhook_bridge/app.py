"""The Flask application: verify, normalise, persist, answer; operations endpoints."""

import logging
import re
import time
import uuid

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import logs, normalize, providers
from .config import Config
from .delivery import DeliveryError, OdooClient, delivery_status
from .errors import BridgeError, InvalidFieldError, UnknownProviderError
from .openapi import openapi
from .outbox import open_outbox

log = logging.getLogger("webhook_bridge.app")
REQUEST_ID_RE = re.compile(r"^[\w.-]{1,64}$")
METRICS = (
    ("accepted", "bridge_webhooks_accepted_total", "Webhook events accepted and queued."),
    ("duplicate", "bridge_webhooks_duplicate_total", "Webhook events already queued."),
    ("rejected", "bridge_webhooks_rejected_total", "Webhook requests rejected (4xx)."),
    ("delivered", "bridge_deliveries_delivered_total", "Items delivered to Odoo."),
    ("retried", "bridge_deliveries_retried_total", "Delivery attempts to be retried."),
    ("dead_lettered", "bridge_deliveries_dead_lettered_total", "Items dead-lettered."),
    ("lease_takeovers", "bridge_deliveries_lease_takeovers_total",
     "Items taken over from a worker whose lease ran out."),
    ("bisections", "bridge_deliveries_bisections_total",
     "Failed batches split in two to isolate a bad item."),
    ("outages", "bridge_odoo_outages_total", "Times delivery found Odoo unreachable."),
)


def create_app(config=None, outbox=None):
    """``config``: a :class:`Config`, a dict of config keys, or None (environment)."""
    if config is None:
        config = Config.load()
    elif isinstance(config, dict):
        config = Config.from_dict(config)
    logs.setup(config.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = config.max_body_bytes
    app.json.sort_keys = False
    app.extensions["bridge"] = state = {
        "config": config,
        "outbox": outbox or open_outbox(config.outbox_url,
                                        synchronous=config.sqlite_synchronous),
    }
    state["odoo"] = OdooClient(config.odoo)

    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

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
        message = (f"body larger than {config.max_body_bytes} bytes" if exc.code == 413
                   else exc.description)
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
            try:
                state["outbox"].count("rejected")
            except Exception:  # noqa: BLE001 - counting must not turn a 4xx into a 500
                log.warning("could not count a rejection")
        return jsonify(body), status

    @app.post("/webhooks/<kind>/<provider>")
    def webhook(kind, provider):
        adapter = providers.get(kind, provider, config)
        if adapter is None:
            raise UnknownProviderError(f"no {kind} provider {provider!r}; known: "
                                       f"{providers.names(config).get(kind, [])}")
        ctx = providers.Context(config=config, kind=kind, provider=provider, request=request,
                                body=request.get_data(cache=True), public_url_of=_public_url,
                                options=config.forms.get(provider, {}) if kind == "forms"
                                else {})
        adapter.verify(ctx)
        try:
            items = adapter.parse(ctx)
        except providers.Ignored as exc:
            log.info("webhook ignored", extra={"provider": provider, "reason": str(exc)})
            return jsonify(status="ignored", reason=str(exc)), 200
        for item in items:
            _check_event_id(item.event_id)
        stored = state["outbox"].enqueue(f"{kind}/{provider}", items)
        deliveries = [{"delivery_id": item_id, "external_ref": item.payload["external_ref"],
                       "duplicate": not created}
                      for (item_id, created), item in zip(stored, items)]
        fresh = any(created for _, created in stored)
        for d, item in zip(deliveries, items):
            call = item.payload.get("call", {})
            log.info("webhook accepted" if not d["duplicate"] else "webhook duplicate",
                     extra={"provider": f"{kind}/{provider}", "delivery_id": d["delivery_id"],
                            "external_ref": d["external_ref"], "status": call.get("status"),
                            "caller": normalize.mask_phone(call.get("caller_number") or
                                                           item.payload["customer"].get("phone")),
                            "ms": round((time.perf_counter() - g.started) * 1000, 2)})
        return jsonify(status="accepted" if fresh else "duplicate",
                       delivery_id=deliveries[0]["delivery_id"],
                       deliveries=deliveries), 202 if fresh else 200

    def _public_url():
        """The URL the provider called (Twilio signs it): the configured public base URL,
        else X-Forwarded-* when behind a trusted proxy, else what we received."""
        path = request.full_path if request.query_string else request.path
        base = config.public_base_url.rstrip("/")
        if not base and config.trust_proxy:
            h = request.headers
            proto = (h.get("X-Forwarded-Proto") or request.scheme).split(",")[0].strip()
            host = (h.get("X-Forwarded-Host") or request.host).split(",")[0].strip()
            port = (h.get("X-Forwarded-Port") or "").split(",")[0].strip()
            if port and ":" not in host and port != {"https": "443", "http": "80"}.get(proto):
                host = f"{host}:{port}"
            base = f"{proto}://{host}{(h.get('X-Forwarded-Prefix') or '').rstrip('/')}"
        if not base:
            base = request.host_url.rstrip("/")
        return base + request.script_root + path

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        checks = {}
        try:
            state["outbox"].ping()
            checks["outbox"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["outbox"] = f"not writable: {type(exc).__name__}"
        if not config.odoo.url:
            checks["odoo"] = "not configured (ODOO_URL)"
        else:
            try:
                state["odoo"].version()
                checks["odoo"] = "ok"
            except DeliveryError as exc:
                checks["odoo"] = f"unreachable: {exc}"
        ready = all(v == "ok" for v in checks.values())
        reasons = [f"{name}: {value}" for name, value in checks.items() if value != "ok"]
        try:
            delivery = delivery_status(state["outbox"].stats())
        except Exception as exc:  # noqa: BLE001 - already reported by the outbox check
            delivery = {"status": f"unknown: {type(exc).__name__}"}
        return jsonify(status="ready" if ready else "not ready", reasons=reasons,
                       checks=checks, delivery=delivery), 200 if ready else 503

    @app.get("/metrics")
    def metrics():
        stats = state["outbox"].stats()
        lines = []
        for key, name, help_text in METRICS:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter",
                      f"{name} {stats['counters'][key]}"]
        gauges = (
            ("bridge_outbox_queue_depth", "Items waiting for delivery.",
             stats["states"]["pending"]),
            ("bridge_outbox_dead_letters", "Items in the dead-letter store.",
             stats["states"]["dead"]),
            ("bridge_outbox_oldest_item_age_seconds", "Age of the oldest waiting item.",
             round(stats["oldest_pending_age"], 3)),
            ("bridge_outbox_in_flight", "Waiting items claimed by a worker right now.",
             stats["in_flight"]),
            ("bridge_outbox_retrying", "Waiting items that failed at least once.",
             stats["retrying"]),
            ("bridge_outbox_backing_off", "Waiting items not due yet (backoff).",
             stats["backing_off"]),
            ("bridge_odoo_up", "1 unless the workers found Odoo unreachable.",
             int(stats["odoo"]["up"])),
            ("bridge_odoo_down_seconds", "How long Odoo has been unreachable (0: it is up).",
             round(stats["odoo"]["down_for"], 3)),
        )
        for name, help_text, value in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n", 200, {"Content-Type":
                                              "text/plain; version=0.0.4; charset=utf-8"}

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(openapi(providers.names(config)))

    return app


def _check_event_id(event_id):
    if not event_id or not isinstance(event_id, str):
        raise InvalidFieldError("event id", "the provider's event id is missing")
    if len(event_id) > 500:
        raise InvalidFieldError("event id", "longer than 500 characters")
    try:
        event_id.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFieldError("event id", "is not valid Unicode") from None
