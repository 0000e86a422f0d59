"""The real ``webhook-bridge serve`` (gunicorn) over HTTP: chunked bodies over the limit are
refused whole, ``X-Forwarded-Proto`` is ignored unless ``trust_proxy``, and a volley of
nasty requests leaves the same worker process serving."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SAMPLES, bridge_config, signed
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
CALL = json.loads((SAMPLES / "telephony_generic.json").read_text())
LIMIT = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, tmp_path, **config):
        path = tmp_path / "bridge.json"
        path.write_text(json.dumps(bridge_config(tmp_path, max_body_bytes=LIMIT, **config)))
        self.port = free_port()
        env = {**os.environ, "BRIDGE_CONFIG": str(path),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.log = open(tmp_path / "serve.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webhook_bridge.cli", "serve", "--bind",
             f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "2"],
            env=env, cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail("the bridge did not start: " + (tmp_path / "serve.log").read_text()[-2000:])

    def request(self, method, path, body=None, headers=None, chunks=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            try:
                if chunks is not None:
                    conn.request(method, path, body=iter(chunks), headers=headers or {},
                                 encode_chunked=True)
                else:
                    conn.request(method, path, body=body, headers=headers or {})
            except BrokenPipeError:
                # A server may answer a request it refuses before reading all of its body
                # and close: the answer is then waiting to be read (RFC 9112, 9.6).
                pass
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            conn.close()

    def workers(self):
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return sorted(children.read_text().split())

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    yield server
    server.stop()


def test_chunked_over_the_limit_is_413_and_nothing_stored(served):
    row = (b"uniqueid,linkedid,src,dst,start,end,duration,disposition\n"
           b"1715675400.9,1715675400.9,13800138000,600,2024-05-14 16:30:00,"
           b"2024-05-14 16:31:10,70,ANSWERED\n")
    over = row + b"\n" * (LIMIT + 1 - len(row))
    headers = {"X-Bridge-Token": "asterisk-token", "Content-Type": "text/csv"}
    status, answer = served.request("POST", "/webhooks/telephony/asterisk", headers=headers,
                                    chunks=[over[:300], over[300:700], over[700:]])
    assert status == 413, answer
    status, answer = served.request("POST", "/webhooks/telephony/asterisk", body=over,
                                    headers=headers)
    assert status == 413, answer
    # within the limit, chunked: stored whole, and a first delivery (202), not a duplicate
    status, answer = served.request("POST", "/webhooks/telephony/asterisk", headers=headers,
                                    chunks=[row[:50], row[50:]])
    assert status == 202 and answer["status"] == "accepted", answer


def test_forwarded_proto_ignored_without_trust_proxy(served):
    """gunicorn trusts 127.0.0.1 by default; the bridge sets forwarded_allow_ips to match
    trust_proxy, so a request claiming https is checked against the http URL it reached."""
    body = b"CallSid=CAfwd&CallStatus=completed&From=%2B8613800138000"
    params = {"CallSid": "CAfwd", "CallStatus": "completed", "From": "+8613800138000"}
    path = "/webhooks/telephony/twilio"
    validator = RequestValidator("twilio-token")
    for scheme, expected in (("https", 401), ("http", 202)):
        url = f"{scheme}://127.0.0.1:{served.port}{path}"
        status, answer = served.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on",
            "X-Twilio-Signature": validator.compute_signature(url, params)})
        assert status == expected, (scheme, answer)


def test_nasty_volley_keeps_the_same_worker(served):
    before = served.workers()
    deep = "[" * 100000 + "]" * 100000
    volley = [
        ("/webhooks/telephony/generic", deep.encode(), "application/json"),
        ("/webhooks/telephony/aircall", ('{"token": "\\ud800", "x": %s}' % deep).encode(),
         "application/json"),
        ("/webhooks/forms/typeform", b"\xff" * 999, "application/json"),
        ("/webhooks/forms/generic", b"--b\r\n" * 199, "multipart/form-data; boundary=b"),
        ("/webhooks/telephony/twilio?bodySHA256=x", b"{}", "application/json"),
    ]
    for path, body, ctype in volley:
        for chunked in (False, True):
            kwargs = {"chunks": [body]} if chunked else {"body": body}
            status, answer = served.request("POST", path, headers={"Content-Type": ctype},
                                            **kwargs)
            assert 400 <= status < 500, (path, status, answer)
    for kind, provider, ctype in (("telephony", "yeastar", "application/json"),
                                  ("telephony", "asterisk", "text/csv"),
                                  ("forms", "feedbackhub", "application/json")):
        body = ('{"action": "NewCdr", "msg": %s}' % json.dumps(deep[:900])).encode()
        path, kw = signed(kind, provider, body, ctype)
        status, answer = served.request("POST", path, body=body,
                                        headers={**kw["headers"], "Content-Type": ctype})
        assert 400 <= status < 500, (path, status, answer)
    body = json.dumps({**CALL, "call_id": "alive"}).encode()
    path, kw = signed("telephony", "generic", body, "application/json", msg_id="alive")
    status, answer = served.request("POST", path, body=body,
                                    headers={**kw["headers"], "Content-Type": "application/json"})
    assert status == 202, answer
    assert served.workers() == before  # no worker died and was replaced
