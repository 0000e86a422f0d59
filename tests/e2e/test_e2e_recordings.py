"""End to end: a call record with a recording URL goes into the bridge, the worker delivers
the call, fetches the recording from a local fake provider that wants the account's
credentials, and the real Odoo keeps the audio as an attachment of the case."""

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from odoo_rpc import NEEDED, Rpc, bridge_app
from test_e2e_odoo import WHSEC

pytestmark = pytest.mark.e2e
AUDIO = b"ID3\x04\x00 e2e recording " * 500
ACCOUNT, TOKEN = "AC-e2e", "e2e-recording-token"


@pytest.fixture
def provider():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
            ok = self.headers.get("Authorization") == expected and self.path.endswith(".mp3")
            status, body = (200, AUDIO) if ok else (401, b"authenticate")
            self.send_response(status)
            self.send_header("Content-Type", "audio/mpeg" if ok else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_recording_archived_with_the_case(odoo_settings, tmp_path, provider):
    from webhook_bridge.signatures import standard_sign

    env = odoo_settings(*NEEDED)
    admin = Rpc.admin(env)
    app = bridge_app(env, tmp_path, secrets={"telephony/generic": [WHSEC]}, recordings={
        "generic": {"auth": "basic", "username": ACCOUNT, "password": TOKEN,
                    "hosts": ["127.0.0.1"], "url_suffix": ".mp3"}})
    call_id = f"e2e-rec-{uuid.uuid4().hex[:12]}"
    body = json.dumps({
        "call_id": call_id, "status": "completed", "caller_number": "+8613900000001",
        "start": "2024-05-14T08:30:00Z", "duration": 70,
        "recording_url": f"{provider}/Recordings/{call_id}"}).encode()
    ts = int(time.time())
    response = app.test_client().post(
        "/webhooks/telephony/generic", data=body, content_type="application/json",
        headers={"webhook-id": f"msg-{call_id}", "webhook-timestamp": str(ts),
                 "webhook-signature": standard_sign(WHSEC, f"msg-{call_id}", ts, body)})
    assert response.status_code == 202, response.json
    app.deliver()
    assert app.outbox.stats()["states"] == {"pending": 0, "delivered": 2, "dead": 0}
    (call,) = admin("complaint.call", "search_read", [("call_id", "=", call_id)],
                    fields=["case_id", "recording_status", "recording_attachment_id"])
    assert call["recording_status"] == "archived", call
    (attachment,) = admin("ir.attachment", "read", [call["recording_attachment_id"][0]],
                          fields=["res_model", "res_id", "mimetype", "datas"])
    assert (attachment["res_model"], attachment["res_id"]) == ("complaint.case",
                                                               call["case_id"][0])
    assert attachment["mimetype"] == "audio/mpeg"
    assert base64.b64decode(attachment["datas"]) == AUDIO
