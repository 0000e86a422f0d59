"""A small fake Odoo on 127.0.0.1: JSON-RPC and XML-RPC ``common.version``,
``common.authenticate`` and ``object.execute_kw('complaint.case', 'intake', [payloads])``,
idempotent on (source_system, external_ref) like the real addon, and
``complaint.call.archive_recording``.

Knobs: ``fail_with`` (an Odoo exception name raised for the whole call), ``http_status``
(answer every request with this status), ``requests`` (how many came), ``reject_refs`` (per-item errors), ``delay``,
``reply_delay`` (JSON-RPC intake only).
"""

import json
import threading
import time
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB, LOGIN, API_KEY, UID = "testdb", "intake-bot", "intake-key", 7


class FakeOdoo:
    def __init__(self, port=0):
        self.port = port
        self.cases = {}  # (source_system, external_ref) -> case dict
        self.received = []  # every payload intake got, in order
        self.recordings = {}  # (source_system, call_id, recording_ref) -> last report
        self.recording_reports = []  # every archive_recording report, in order
        self.intake_calls = 0
        self.requests = 0  # every HTTP request, answered or not
        self.fail_with = None
        self.http_status = None
        self.reject_refs = set()
        self.delay = 0.0
        self.reply_delay = 0.0  # after intake has committed: a reply that comes too late
        self.lock = threading.Lock()
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def config(self, protocol="jsonrpc"):
        return {"url": self.url, "db": DB, "login": LOGIN, "api_key": API_KEY,
                "protocol": protocol, "timeout": 5}

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.requests += 1
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.http_status:
                    return self._send(fake.http_status, b"<html>unavailable</html>", "text/html")
                if self.path == "/jsonrpc":
                    request = json.loads(body)
                    params = request["params"]
                    try:
                        result = fake.dispatch(params["service"], params["method"], params["args"])
                        if params["method"] == "execute_kw":
                            time.sleep(fake.reply_delay)
                        answer = {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
                    except OdooError as exc:
                        answer = {"jsonrpc": "2.0", "id": request.get("id"), "error": {
                            "code": 200, "message": "Odoo Server Error",
                            "data": {"name": exc.name, "message": exc.message}}}
                    return self._send(200, json.dumps(answer).encode(), "application/json")
                if self.path.startswith("/xmlrpc/2/"):
                    args, method = xmlrpc.client.loads(body, use_builtin_types=True)
                    try:
                        result = fake.dispatch(self.path.rsplit("/", 1)[1], method, list(args))
                        out = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
                    except OdooError as exc:
                        code = 3 if exc.name.endswith("AccessDenied") else 1
                        out = xmlrpc.client.dumps(xmlrpc.client.Fault(
                            code, f"Traceback...\n{exc.name}: {exc.message}"))
                    return self._send(200, out.encode(), "text/xml")
                self._send(404, b"not found", "text/plain")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client killed mid-request (the crash tests do that)

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- the Odoo side ------------------------------------------------------------------
    def dispatch(self, service, method, args):
        if service == "common" and method == "version":
            return {"server_version": "18.0", "server_serie": "18.0"}
        if service == "common" and method == "authenticate":
            db, login, key, _ = args
            return UID if (db, login, key) == (DB, LOGIN, API_KEY) else False
        if service == "object" and method == "execute_kw":
            db, uid, key, model, name, call_args = args[:6]
            if (db, uid, key) != (DB, UID, API_KEY):
                raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")
            if (model, name) not in (("complaint.case", "intake"),
                                     ("complaint.call", "archive_recording")):
                raise OdooError("builtins.AttributeError", f"no {model}.{name}")
            if self.fail_with:
                raise OdooError(self.fail_with, "the fake Odoo was told to fail")
            if name == "archive_recording":
                return self.archive_recording(call_args[0])
            return self.intake(call_args[0])
        raise OdooError("builtins.KeyError", f"unknown {service}.{method}")

    def intake(self, payloads):
        results = []
        with self.lock:
            self.intake_calls += 1
            for payload in payloads:
                self.received.append(payload)
                key = (payload.get("source_system"), payload.get("external_ref"))
                if payload.get("external_ref") in self.reject_refs or not all(key):
                    results.append({"id": False, "number": False, "status": "error",
                                    "error": "invalid complaint: rejected by the fake"})
                    continue
                case = self.cases.get(key)
                if case is None:
                    case = self.cases[key] = {"id": len(self.cases) + 1, "payload": payload,
                                              "number": f"CMP{len(self.cases) + 1:05d}",
                                              "deliveries": 1}
                    status = "created"
                else:
                    case["deliveries"] += 1
                    status = "duplicate" if case["payload"] == payload else "updated"
                    case["payload"] = payload
                results.append({"id": case["id"], "number": case["number"], "status": status,
                                "error": False})
        return results

    def archive_recording(self, reports):
        """Like the addon: a recording of a call not delivered yet waits; the same recording
        (call, recording_ref) is stored once; a failure is recorded on the call."""
        results = []
        with self.lock:
            for report in reports:
                self.recording_reports.append(report)
                call = (report["source_system"], report["call_id"])
                if call not in self.cases:
                    results.append({"status": "waiting", "error": "the call is not here yet"})
                    continue
                key = (*call, report["recording_ref"])
                if key in self.recordings and "data" in self.recordings[key]:
                    results.append({"status": "duplicate", "error": False})
                    continue
                self.recordings[key] = report
                results.append({"status": "failed" if report.get("error") else "archived",
                                "error": report.get("error") or False})
        return results

    def count(self, external_ref):
        """How many times intake received a payload for ``external_ref``."""
        return sum(1 for p in self.received if p.get("external_ref") == external_ref)


class OdooError(Exception):
    def __init__(self, name, message):
        super().__init__(message)
        self.name, self.message = name, message
