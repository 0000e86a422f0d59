"""Delivery worker: outbox -> ``complaint.case.intake`` over JSON-RPC (or XML-RPC).

Transient failures (connection errors, timeouts, HTTP 5xx, serialization failures, any
unclassified server error) are retried with exponential backoff and jitter.  Permanent ones
(access denied, validation/user errors) dead-letter the items; a permanent error on a batch
is retried item by item so that only the culprit is dead-lettered.  Per-item ``error``
results dead-letter only that item.
"""

import itertools
import logging
import random
import threading
import time
import xmlrpc.client

import requests

log = logging.getLogger("webhook_bridge.delivery")
PERMANENT = ("AccessDenied", "AccessError", "ValidationError", "UserError")
TRANSIENT_HINTS = ("SerializationFailure", "could not serialize", "deadlock",
                   "TransactionRollbackError", "LockNotAvailable")
MODEL, METHOD = "complaint.case", "intake"


class DeliveryError(Exception):
    def __init__(self, message, permanent):
        super().__init__(message)
        self.permanent = permanent


def classify(name, message=""):
    """Permanent if Odoo raised one of :data:`PERMANENT`, unless it is a DB conflict."""
    text = f"{name} {message}"
    if any(hint in text for hint in TRANSIENT_HINTS):
        return False
    return any(name.endswith(p) or f"odoo.exceptions.{p}" in text for p in PERMANENT)


class OdooClient:
    """Odoo's external API with the intake bot's API key; the uid is cached."""

    def __init__(self, config, session=None):
        self.config = config
        self.session = session or requests.Session()
        self._uid = None
        self._ids = itertools.count(1)

    def _post(self, path, **kwargs):
        url = self.config.url.rstrip("/") + path
        try:
            resp = self.session.post(url, timeout=self.config.timeout, **kwargs)
        except requests.RequestException as exc:
            raise DeliveryError(f"cannot reach Odoo: {type(exc).__name__}", False) from None
        if resp.status_code >= 400:
            raise DeliveryError(f"Odoo answered HTTP {resp.status_code}",
                                resp.status_code in (401, 403))
        return resp

    def call(self, service, method, *args):
        if self.config.protocol == "xmlrpc":
            resp = self._post(f"/xmlrpc/2/{service}",
                              data=xmlrpc.client.dumps(args, method, allow_none=True),
                              headers={"Content-Type": "text/xml"})
            try:
                return xmlrpc.client.loads(resp.content, use_builtin_types=True)[0][0]
            except xmlrpc.client.Fault as fault:
                permanent = fault.faultCode in (2, 3, 4) or classify("", fault.faultString)
                raise DeliveryError(_first_line(fault.faultString), permanent) from None
            except Exception:  # noqa: BLE001 - not XML-RPC: a proxy page, a restart...
                raise DeliveryError("Odoo's XML-RPC answer is unreadable", False) from None
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids),
                "params": {"service": service, "method": method, "args": list(args)}}
        resp = self._post("/jsonrpc", json=body)
        try:
            answer = resp.json()
        except ValueError:
            raise DeliveryError("Odoo's JSON-RPC answer is not JSON", False) from None
        if not isinstance(answer, dict):
            raise DeliveryError("Odoo's JSON-RPC answer is not an object", False)
        if answer.get("error"):
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            name = str(data.get("name") or "")
            message = str(data.get("message") or error.get("message") or "error")
            raise DeliveryError(f"{name}: {message}" if name else message,
                                classify(name, message))
        return answer.get("result")

    def uid(self):
        if self._uid is None:
            c = self.config
            uid = self.call("common", "authenticate", c.db, c.login, c.api_key, {})
            if not uid:
                raise DeliveryError(f"AccessDenied: Odoo refused login {c.login!r} "
                                    f"with the configured API key", True)
            self._uid = uid
        return self._uid

    def intake(self, payloads):
        c = self.config
        try:
            return self.call("object", "execute_kw", c.db, self.uid(), c.api_key, MODEL,
                             METHOD, [payloads])
        except DeliveryError as exc:
            if exc.permanent and "AccessDenied" in str(exc):
                self._uid = None  # the key may have changed: authenticate again next time
            raise

    def version(self):
        return self.call("common", "version")


def _first_line(text):
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "error"


class Worker:
    """Claims due items, delivers them in batches, records the outcome."""

    def __init__(self, outbox, client, config):
        self.outbox, self.client, self.config = outbox, client, config

    def backoff(self, attempts):
        """Exponential, capped, with jitter in [delay/2, delay]."""
        delay = min(self.config.retry_max_seconds,
                    self.config.retry_base_seconds * 2 ** max(0, attempts - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    def run_once(self, now=None):
        """Deliver one batch; returns how many items were claimed."""
        token, items = self.outbox.claim(self.config.batch_size,
                                         self.config.claim_lease_seconds, now=now)
        if items:
            self._deliver(token, items)
        return len(items)

    def drain(self, max_rounds=1000):
        """Deliver until nothing is due (for tests and ``worker --once``)."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            if not n:
                break
            total += n
        return total

    def run(self, stop=None):
        stop = stop or threading.Event()
        log.info("delivery worker started", extra={"batch_size": self.config.batch_size})
        while not stop.is_set():
            try:
                n = self.run_once()
            except Exception:  # noqa: BLE001 - the outbox is down: keep trying
                log.exception("delivery round failed")
                n = 0
            if not n:
                stop.wait(self.config.poll_interval)

    def _deliver(self, token, items):
        try:
            results = self.client.intake([item.payload for item in items])
            if not isinstance(results, list) or len(results) != len(items):
                raise DeliveryError("intake answered with a result list of the wrong size",
                                    False)
        except DeliveryError as exc:
            if exc.permanent and len(items) > 1:
                for item in items:  # find the culprit: one at a time
                    self._deliver(token, [item])
                return
            self._failed(token, items, str(exc), exc.permanent)
            return
        delivered, dead = [], []
        for item, result in zip(items, results):
            result = result if isinstance(result, dict) else {}
            if result.get("status") in ("created", "updated", "duplicate"):
                delivered.append((item.id, f"{result.get('status')} "
                                           f"{result.get('number') or result.get('id')}"))
            else:
                dead.append((item.id, f"intake: {result.get('error') or 'invalid item'}"))
                log.warning("item dead-lettered", extra={"delivery_id": item.id,
                                                         "error": dead[-1][1]})
        self.outbox.finish(token, delivered=delivered, dead=dead)
        log.info("batch delivered", extra={"delivered": len(delivered), "dead": len(dead)})

    def _failed(self, token, items, error, permanent):
        now = time.time()
        retry, dead = [], []
        for item in items:
            if permanent or (self.config.max_attempts
                             and item.attempts + 1 >= self.config.max_attempts):
                dead.append((item.id, error))
            else:
                retry.append((item.id, error, now + self.backoff(item.attempts + 1)))
        self.outbox.finish(token, retry=retry, dead=dead, now=now)
        log.warning("delivery failed", extra={"error": error, "permanent": permanent,
                                              "retry": len(retry), "dead": len(dead)})
