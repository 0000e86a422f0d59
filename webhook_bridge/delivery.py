"""Delivery worker: outbox -> ``complaint.case.intake`` over JSON-RPC (or XML-RPC).

A failed call is one of four kinds (:attr:`DeliveryError.kind`):

``outage``
    Odoo cannot be reached or is not itself: connection refused or reset, HTTP 5xx, an answer
    that is not JSON-RPC/XML-RPC, its database unavailable.  Not the items' fault: they go
    back to the queue due at once (an outage never dead-letters), Odoo is marked down in the
    outbox (one view shared by every worker) and no worker claims items until a health probe
    (``common.authenticate``, taken by one worker at a time, at growing intervals capped by
    ``probe_max_seconds``) gets an answer; then every worker resumes within its poll interval.
    The queue backs off as a whole, so recovery does not wait for per-item backoff slots, and
    there is one prober, not a herd.
``conflict``
    A database conflict in Odoo (serialization failure, deadlock, lock not available) or a
    timeout: the batch is retried with exponential backoff and jitter.
``permanent``
    ``AccessDenied``, ``AccessError``, ``ValidationError``, ``UserError``: dead-lettered.
``error``
    Any other error of the call (an unclassified server error, a wrong-sized answer, 413).

A ``permanent`` or ``error`` failure of a batch may come from one item in it: the batch is
bisected, each half delivered on its own, so that the good items go through at once and only
the culprit is left, alone, to be retried with backoff (``error``) or dead-lettered
(``permanent``, or ``max_attempts`` reached).  Per-item ``error`` results dead-letter only
that item.

While a batch is in flight its lease is renewed every third of ``claim_lease_seconds`` by a
heartbeat thread: a worker that dies (``kill -9``) loses its items within one lease.
"""

import itertools
import logging
import random
import threading
import time
import xmlrpc.client

import requests

from . import recordings

log = logging.getLogger("webhook_bridge.delivery")
PERMANENT = ("AccessDenied", "AccessError", "ValidationError", "UserError")
TRANSIENT_HINTS = ("SerializationFailure", "could not serialize", "deadlock",
                   "TransactionRollbackError", "LockNotAvailable")
OUTAGE_HINTS = ("OperationalError", "InterfaceError", "PoolError", "could not connect",
                "Connection refused", "server closed the connection", "the database system is",
                "terminating connection")
KINDS = ("outage", "conflict", "permanent", "error")
MODEL, METHOD = "complaint.case", "intake"


class DeliveryError(Exception):
    """``kind``: one of :data:`KINDS` (a bool is read as permanent / error)."""

    def __init__(self, message, kind="error"):
        super().__init__(message)
        if isinstance(kind, bool):
            kind = "permanent" if kind else "error"
        if kind not in KINDS:
            raise ValueError(f"unknown delivery error kind {kind!r}")
        self.kind = kind

    @property
    def permanent(self):
        return self.kind == "permanent"

    @property
    def outage(self):
        return self.kind == "outage"


def classify(name, message=""):
    """Permanent if Odoo raised one of :data:`PERMANENT`, unless it is a DB conflict."""
    text = f"{name} {message}"
    if any(hint in text for hint in TRANSIENT_HINTS):
        return False
    return any(name.endswith(p) or f"odoo.exceptions.{p}" in text for p in PERMANENT)


def kind_of(name, message=""):
    """The kind of an error Odoo answered with (exception ``name`` and ``message``)."""
    text = f"{name} {message}"
    if any(hint in text for hint in TRANSIENT_HINTS):
        return "conflict"
    if any(hint in text for hint in OUTAGE_HINTS):
        return "outage"
    return "permanent" if classify(name, message) else "error"


class OdooClient:
    """Odoo's external API with the intake bot's API key; the uid is cached.  One HTTP
    session per thread (a ``requests.Session`` is not meant to be shared by threads, and
    gunicorn's threads ask Odoo for WeChat's case numbers at the same time), unless one is
    given."""

    def __init__(self, config, session=None):
        self.config = config
        self._given_session = session
        self._local = threading.local()
        self._uid = None
        self._ids = itertools.count(1)

    @property
    def session(self):
        if self._given_session is not None:
            return self._given_session
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post(self, path, timeout=None, **kwargs):
        url = self.config.url.rstrip("/") + path
        try:
            resp = self.session.post(url, timeout=timeout or self.config.timeout, **kwargs)
        except requests.Timeout as exc:
            if isinstance(exc, requests.ConnectTimeout):
                raise DeliveryError("cannot reach Odoo: ConnectTimeout", "outage") from None
            raise DeliveryError(f"Odoo did not answer in time: {type(exc).__name__}",
                                "conflict") from None
        except requests.RequestException as exc:
            raise DeliveryError(f"cannot reach Odoo: {type(exc).__name__}", "outage") from None
        if resp.status_code >= 400:
            kind = ("permanent" if resp.status_code in (401, 403)
                    else "error" if resp.status_code == 413 else "outage")
            raise DeliveryError(f"Odoo answered HTTP {resp.status_code}", kind)
        return resp

    def call(self, service, method, *args, timeout=None):
        if self.config.protocol == "xmlrpc":
            resp = self._post(f"/xmlrpc/2/{service}", timeout=timeout,
                              data=xmlrpc.client.dumps(args, method, allow_none=True),
                              headers={"Content-Type": "text/xml"})
            try:
                return xmlrpc.client.loads(resp.content, use_builtin_types=True)[0][0]
            except xmlrpc.client.Fault as fault:
                kind = ("permanent" if fault.faultCode in (2, 3, 4)
                        else kind_of("", fault.faultString))
                raise DeliveryError(_first_line(fault.faultString), kind) from None
            except Exception:  # noqa: BLE001 - not XML-RPC: a proxy page, a restart...
                raise DeliveryError("Odoo's XML-RPC answer is unreadable", "outage") from None
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids),
                "params": {"service": service, "method": method, "args": list(args)}}
        resp = self._post("/jsonrpc", timeout=timeout, json=body)
        try:
            answer = resp.json()
        except ValueError:
            raise DeliveryError("Odoo's JSON-RPC answer is not JSON", "outage") from None
        if not isinstance(answer, dict):
            raise DeliveryError("Odoo's JSON-RPC answer is not an object", "outage")
        if answer.get("error"):
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            name = str(data.get("name") or "")
            message = str(data.get("message") or error.get("message") or "error")
            raise DeliveryError(f"{name}: {message}" if name else message,
                                kind_of(name, message))
        return answer.get("result")

    def uid(self, timeout=None):
        if self._uid is None:
            c = self.config
            uid = self.call("common", "authenticate", c.db, c.login, c.api_key, {},
                            timeout=timeout)
            if not uid:
                raise DeliveryError(f"AccessDenied: Odoo refused login {c.login!r} "
                                    f"with the configured API key", "permanent")
            self._uid = uid
        return self._uid

    def intake(self, payloads, timeout=None):
        """``complaint.case.intake``; ``timeout`` bounds the whole, log-in included."""
        c = self.config
        deadline = time.monotonic() + timeout if timeout else None
        try:
            uid = self.uid(timeout=timeout)
            left = max(0.05, deadline - time.monotonic()) if deadline else None
            return self.call("object", "execute_kw", c.db, uid, c.api_key, MODEL,
                             METHOD, [payloads], timeout=left)
        except DeliveryError as exc:
            if exc.permanent and "AccessDenied" in str(exc):
                self._uid = None  # the key may have changed: authenticate again next time
            raise

    def archive_recording(self, reports):
        """``complaint.call.archive_recording``: store fetched recordings (or the reason
        they could not be fetched) with their calls."""
        c = self.config
        try:
            return self.call("object", "execute_kw", c.db, self.uid(), c.api_key,
                             "complaint.call", "archive_recording", [reports])
        except DeliveryError as exc:
            if exc.permanent and "AccessDenied" in str(exc):
                self._uid = None
            raise

    def probe(self, timeout=5.0):
        """Raise :class:`DeliveryError` unless Odoo and its database answer: the intake
        bot's ``common.authenticate`` (a refused key is an answer too)."""
        c = self.config
        self.call("common", "authenticate", c.db, c.login, c.api_key, {},
                  timeout=min(timeout, c.timeout))

    def version(self):
        return self.call("common", "version")


def _first_line(text):
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "error"


class _Heartbeat:
    """Renews the lease of a claim every ``interval`` seconds while a batch is delivered."""

    def __init__(self, outbox, token, ids, lease, interval):
        self.outbox, self.token, self.ids = outbox, token, ids
        self.lease, self.interval = lease, interval
        self.stop = threading.Event()
        self.lost = False
        self.thread = threading.Thread(target=self._loop, name="lease-heartbeat", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _loop(self):
        while not self.stop.wait(self.interval):
            try:
                held = self.outbox.renew(self.token, self.ids, self.lease)
                if not held and not self.stop.is_set():
                    self.lost = True  # taken over: our finish() will record nothing twice
                    log.warning("lease lost", extra={"claim": self.token})
            except Exception:  # noqa: BLE001 - the outbox is down: the lease may run out
                log.warning("could not renew the lease", exc_info=True)


class Worker:
    """Claims due items, delivers them in batches, records the outcome."""

    def __init__(self, outbox, client, config):
        self.outbox, self.client, self.config = outbox, client, config
        self.fetch_session = requests.Session()  # the providers' recordings

    def backoff(self, attempts):
        """Exponential, capped, with jitter in [delay/2, delay]."""
        delay = min(self.config.retry_max_seconds,
                    self.config.retry_base_seconds * 2 ** max(0, attempts - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    def probe_delay(self, failures):
        """Wait before the next health probe after ``failures`` failed ones in a row."""
        delay = min(self.config.probe_max_seconds,
                    self.config.retry_base_seconds * 2 ** max(0, failures - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    def odoo_available(self, now=None):
        """False while Odoo is known to be down and it is not this worker's turn to probe
        it (or the probe failed).  The probe's success ends the outage for every worker."""
        if self.outbox.health(now)["up"]:
            return True
        probe_timeout = max(1.0, min(5.0, float(self.config.odoo.timeout)))
        if not self.outbox.take_probe(hold=probe_timeout + 1, now=now):
            return False
        try:
            self.client.probe(probe_timeout)
        except DeliveryError as exc:
            if exc.outage:
                self.outbox.mark_down(str(exc), self.probe_delay)
                return False
        down_for = self.outbox.mark_up()
        if down_for is not None:
            log.info("Odoo answers again: delivery resumes",
                     extra={"down_seconds": round(down_for, 1)})
        return True

    def run_once(self, now=None):
        """Deliver one batch; returns how many items were claimed."""
        if not self.odoo_available(now):
            return 0
        lease = self.config.claim_lease_seconds
        token, items = self.outbox.claim(self.config.batch_size, lease, now=now)
        if items:
            with _Heartbeat(self.outbox, token, [item.id for item in items], lease,
                            max(0.05, lease / 3)):
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
        """Deliver ``items``; on a failure that may be one item's, bisect.  Recordings
        (fetched, then archived) come after the calls of the batch, one by one."""
        audio = [item for item in items if item.provider.startswith(recordings.PREFIX)]
        items = [item for item in items if not item.provider.startswith(recordings.PREFIX)]
        if items and not self._deliver_calls(token, items):
            audio_from = 0
        else:
            audio_from = len(audio)
            for n, item in enumerate(audio):
                if not self._archive(token, item):  # Odoo went down: the rest waits for it
                    audio_from = n + 1
                    break
        if audio[audio_from:]:
            self._failed(token, audio[audio_from:], DeliveryError("Odoo is unreachable",
                                                                  "outage"))

    def _archive(self, token, item):
        """Fetch one recording and hand it to Odoo; False when Odoo cannot be reached."""
        rec = item.payload["recording"]
        provider = item.provider[len(recordings.PREFIX):]
        source = self.config.recording_sources.get(provider)
        last = bool(self.config.max_attempts) and item.attempts + 1 >= self.config.max_attempts
        try:
            if source is None:
                raise recordings.RecordingError(
                    f"recordings of {provider!r} are no longer fetched (configuration)")
            content, mimetype = recordings.fetch(source, rec["url"], self.fetch_session)
            report = recordings.report(rec, content, mimetype)
        except recordings.RecordingError as exc:
            if exc.retry and not last:
                self._retry_one(token, item, f"recording: {exc.reason}")
                return True
            reason = exc.reason + (f" (gave up after {item.attempts + 1} attempts)"
                                   if exc.retry else "")
            log.warning("recording not archived", extra={"delivery_id": item.id,
                                                         "error": reason})
            report = recordings.report(rec, error=reason)
        try:
            result = self.client.archive_recording([report])
            result = result[0] if isinstance(result, list) and len(result) == 1 else {}
        except DeliveryError as exc:
            self._failed(token, [item], exc)
            if exc.outage:
                self.outbox.mark_down(str(exc), self.probe_delay)
                return False
            return True
        status = result.get("status") if isinstance(result, dict) else None
        if status in ("archived", "duplicate", "failed"):
            self.outbox.finish(token, delivered=[(item.id, f"recording {status}")])
        elif status == "waiting" and not last:  # the call itself is not in Odoo yet
            self._retry_one(token, item, f"recording: {result.get('error')}")
        else:
            error = (result.get("error") if isinstance(result, dict) else None) or "invalid"
            self.outbox.finish(token, dead=[(item.id, f"archive_recording: {error}")])
        return True

    def _retry_one(self, token, item, error):
        now = time.time()
        self.outbox.finish(token, retry=[(item.id, error, now + self.backoff(item.attempts + 1))],
                           now=now)

    def _deliver_calls(self, token, items):
        """The calls and forms of a batch; False when Odoo went down meanwhile."""
        todo = [items]
        while todo:
            batch = todo.pop(0)
            try:
                results = self.client.intake([item.payload for item in batch])
                if not isinstance(results, list) or len(results) != len(batch):
                    raise DeliveryError("intake answered with a result list of the wrong size")
            except DeliveryError as exc:
                if exc.outage:  # nothing more gets through: the rest goes back too
                    rest = batch + [item for group in todo for item in group]
                    self._failed(token, rest, exc)
                    self.outbox.mark_down(str(exc), self.probe_delay)
                    return False
                if (len(batch) > 1 and exc.kind in ("permanent", "error")
                        and "AccessDenied" not in str(exc)):
                    half = len(batch) // 2
                    todo[:0] = [batch[:half], batch[half:]]
                    self.outbox.count("bisections")
                    log.info("batch failed: bisecting",
                             extra={"size": len(batch), "error": str(exc)})
                    continue
                self._failed(token, batch, exc)
                continue
            self._record(token, batch, results)
        return True

    def _record(self, token, items, results):
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

    def _failed(self, token, items, exc):
        now = time.time()
        error = str(exc)
        retry, dead = [], []
        for item in items:
            if exc.outage:  # due again as soon as Odoo answers; never dead-lettered
                retry.append((item.id, error, now))
            elif exc.permanent or (self.config.max_attempts
                                   and item.attempts + 1 >= self.config.max_attempts):
                dead.append((item.id, error))
            else:
                retry.append((item.id, error, now + self.backoff(item.attempts + 1)))
        self.outbox.finish(token, retry=retry, dead=dead, now=now)
        log.warning("delivery failed", extra={"error": error, "kind": exc.kind,
                                              "retry": len(retry), "dead": len(dead)})


def delivery_status(stats):
    """The delivery side of readiness, from :meth:`Outbox.stats`: ``status`` is ``ok`` or
    ``degraded``, with the ``reasons`` an operator needs (the bridge still accepts webhooks
    while delivery is degraded: that is what the outbox is for)."""
    odoo, states = stats["odoo"], stats["states"]
    reasons = []
    if not odoo["up"]:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(odoo["down_since"]))
        reasons.append(f"the workers cannot reach Odoo since {since} "
                       f"({odoo['down_for']:.0f} s): {odoo['last_error']}; "
                       f"{states['pending']} items wait, the oldest "
                       f"{stats['oldest_pending_age']:.0f} s old")
    if stats["backing_off"]:
        reasons.append(f"{stats['backing_off']} items wait for a retry after a failed "
                       f"delivery")
    if states["dead"]:
        reasons.append(f"{states['dead']} dead letters (webhook-bridge deadletters list)")
    return {"status": "degraded" if reasons else "ok", "reasons": reasons,
            "queue_depth": states["pending"],
            "oldest_item_age_seconds": round(stats["oldest_pending_age"], 3),
            "in_flight": stats["in_flight"], "odoo_up": odoo["up"]}
