"""Call recordings archived: the bridge fetches the audio from local fake provider endpoints
that behave like the real ones (Twilio's basic auth, Aircall's pre-signed links that expire,
404 after deletion, slow and flaky answers, recordings too large) and hands it to Odoo."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from helpers import SAMPLES, bridge_config, signed

from webhook_bridge import create_app
from webhook_bridge.delivery import OdooClient, Worker
from webhook_bridge.recordings import RecordingSource, fetch, RecordingError

AUDIO = b"ID3\x04\x00fake mp3 frames " + bytes(range(256)) * 40
SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"
SIGNING_KEY = b"fake-s3-signing-key"


class FakeProvider:
    """Recordings as Twilio (``/2010-04-01/...`` with basic auth, ``.mp3``) and Aircall
    (pre-signed ``/aircall/<id>?Expires=&Signature=``) serve them."""

    def __init__(self):
        self.deleted, self.hits, self.fail_first, self.delay = set(), [], 0, 0.0
        self.drip = None  # seconds between bytes: a provider that never finishes
        self.sizes = {}  # path -> size to serve (too large)
        self.chunked = False

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                fake.hits.append(self.path)
                if fake.fail_first > 0:
                    fake.fail_first -= 1
                    return self._send(503, b"busy", "text/plain")
                if fake.delay:
                    time.sleep(fake.delay)
                if url.path in fake.deleted:
                    return self._send(404, b'{"message": "not found"}', "application/json")
                if url.path.startswith("/2010-04-01/"):
                    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        return self._send(401, b"authenticate", "text/plain")
                    if not url.path.endswith(".mp3"):
                        return self._send(404, b"no such format", "text/plain")
                elif url.path.startswith("/aircall/"):
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    good = presign(url.path, int(query.get("Expires", 0)))
                    if (self.headers.get("Authorization") or "?" + url.query != good[len(url.path):]
                            or int(query["Expires"]) < time.time()):
                        return self._send(403, b"<Error>AccessDenied</Error>", "application/xml")
                else:
                    return self._send(404, b"", "text/plain")
                body = AUDIO if url.path not in fake.sizes else b"\0" * fake.sizes[url.path]
                if fake.drip:
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/mpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for byte in body[:50]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(fake.drip)
                    return None
                return self._send(200, body, "audio/mpeg")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if fake.chunked and status == 200:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(body), 8192):
                        part = body[i:i + 8192]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def presign(path, expires):
    signature = hmac.new(SIGNING_KEY, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{path}?Expires={expires}&Signature={signature}"


@pytest.fixture
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def rec_app(tmp_path, fake_odoo, provider):
    recordings = {
        "twilio": {"auth": "basic", "username": SID, "password": TOKEN,
                   "hosts": ["127.0.0.1"], "timeout": 2},
        "aircall": {"timeout": 2, "max_bytes": 100_000},
    }
    return create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), recordings=recordings,
                                    max_attempts=4))


def worker(app):
    state = app.extensions["bridge"]
    return Worker(state.outbox, OdooClient(state.config.odoo), state.config)


def post_aircall(client, recording_url, call_id=812345678):
    body = json.loads((SAMPLES / "aircall_call_ended.json").read_bytes())
    body["data"].update(id=call_id, recording=recording_url)
    path, kwargs = signed("telephony", "aircall", json.dumps(body).encode(), "application/json")
    response = client.post(path, **kwargs)
    assert response.status_code in (200, 202), response.json
    return response


def post_twilio(client, recording_url):
    body = (SAMPLES / "twilio_recording.txt").read_text().split("&")
    body = "&".join(p if not p.startswith("RecordingUrl=") else "RecordingUrl=" +
                    quote(recording_url, safe="") for p in body).encode()
    path, kwargs = signed("telephony", "twilio", body, "application/x-www-form-urlencoded")
    response = client.post(path, **kwargs)
    assert response.status_code == 202, response.json
    return response


def archived(fake_odoo):
    return {key[1]: report for key, report in fake_odoo.recordings.items()}


def drain_until_settled(app, rounds=10):
    """Run the worker until nothing is pending (retries are due at once: base 0 s)."""
    box = app.extensions["bridge"].outbox
    for _ in range(rounds):
        worker(app).drain()
        if not box.stats()["states"]["pending"]:
            return
        time.sleep(0.05)


def test_twilio_recording_fetched_with_account_credentials(rec_app, fake_odoo, provider):
    url = f"{provider.url}/2010-04-01/Accounts/{SID}/Recordings/RE0a1b2c3d"
    post_twilio(rec_app.test_client(), url)
    drain_until_settled(rec_app)
    (report,) = archived(fake_odoo).values()
    assert base64.b64decode(report["data"]) == AUDIO
    assert report["mimetype"] == "audio/mpeg" and report["name"].endswith(".mp3")
    assert report["url"] == url and provider.hits == [urlsplit(url).path + ".mp3"]
    box = rec_app.extensions["bridge"].outbox
    assert box.stats()["states"] == {"pending": 0, "delivered": 2, "dead": 0}


def test_twilio_wrong_credentials_recorded_as_failure(tmp_path, fake_odoo, provider):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), recordings={
        "twilio": {"auth": "basic", "username": SID, "password": "wrong", "hosts": ["127.0.0.1"]}}))
    post_twilio(app.test_client(), f"{provider.url}/2010-04-01/Accounts/{SID}/Recordings/RE1")
    drain_until_settled(app)
    (report,) = archived(fake_odoo).values()
    assert "data" not in report and "HTTP 401" in report["error"]
    assert "credentials" in report["error"]


def test_credentials_never_sent_to_another_host(tmp_path, fake_odoo, provider):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), recordings={
        "twilio": {"auth": "basic", "username": SID, "password": TOKEN,
                   "hosts": ["api.twilio.com"]}}))
    post_twilio(app.test_client(), f"{provider.url}/2010-04-01/Accounts/{SID}/Recordings/RE2")
    drain_until_settled(app)
    assert provider.hits == []  # not even asked
    (report,) = archived(fake_odoo).values()
    assert "'127.0.0.1' is not among the configured hosts (api.twilio.com)" in report["error"]


def test_aircall_presigned_link_fetched_before_it_expires(rec_app, fake_odoo, provider):
    url = provider.url + presign("/aircall/812345678.mp3", int(time.time()) + 60)
    client = rec_app.test_client()
    post_aircall(client, url)
    post_aircall(client, url)  # the provider sends the event again: the same recording
    drain_until_settled(rec_app)
    (report,) = archived(fake_odoo).values()
    assert base64.b64decode(report["data"]) == AUDIO and len(provider.hits) == 1
    assert len(fake_odoo.recording_reports) == 1


def test_same_recording_signed_anew_is_fetched_once(rec_app, fake_odoo, provider):
    """Aircall signs the link again for each event of a call: still one recording."""
    client = rec_app.test_client()
    body = json.loads((SAMPLES / "aircall_call_ended.json").read_bytes())
    for n, event in enumerate(("call.hungup", "call.ended")):
        body.update(event=event)
        body["data"].update(recording=provider.url + presign("/aircall/10.mp3",
                                                             int(time.time()) + 60 + n))
        path, kwargs = signed("telephony", "aircall", json.dumps(body).encode(),
                              "application/json")
        assert client.post(path, **kwargs).status_code == 202
    drain_until_settled(rec_app)
    assert len(provider.hits) == 1 and len(fake_odoo.recordings) == 1


def test_expired_link_is_given_up_with_its_reason(rec_app, fake_odoo, provider):
    url = provider.url + presign("/aircall/1.mp3", int(time.time()) - 1)
    post_aircall(rec_app.test_client(), url, call_id=1)
    drain_until_settled(rec_app)
    assert len(provider.hits) == 1  # a 403 is not retried
    (report,) = archived(fake_odoo).values()
    assert "HTTP 403" in report["error"] and "expired" in report["error"]
    box = rec_app.extensions["bridge"].outbox
    assert box.stats()["states"] == {"pending": 0, "delivered": 2, "dead": 0}
    assert fake_odoo.count("1") == 1  # the call itself was delivered


def test_deleted_recording_is_reported(rec_app, fake_odoo, provider):
    path = "/aircall/2.mp3"
    provider.deleted.add(path)
    post_aircall(rec_app.test_client(), provider.url + presign(path, int(time.time()) + 60),
                 call_id=2)
    drain_until_settled(rec_app)
    (report,) = archived(fake_odoo).values()
    assert "HTTP 404" in report["error"] and "deleted" in report["error"]


def test_provider_briefly_unavailable_is_retried(rec_app, fake_odoo, provider):
    provider.fail_first = 2
    post_aircall(rec_app.test_client(),
                 provider.url + presign("/aircall/3.mp3", int(time.time()) + 60), call_id=3)
    worker(rec_app).run_once()
    box = rec_app.extensions["bridge"].outbox
    (item,) = box.list("pending")
    assert item.provider == "recording/aircall" and "HTTP 503" in item.last_error
    assert fake_odoo.count("3") == 1  # the call did not wait for its recording
    drain_until_settled(rec_app)
    assert len(provider.hits) == 3
    assert base64.b64decode(archived(fake_odoo)[item.payload["recording"]["call_id"]]["data"]) \
        == AUDIO


def test_provider_down_for_good_gives_up_after_max_attempts(rec_app, fake_odoo, provider):
    provider.fail_first = 100
    post_aircall(rec_app.test_client(),
                 provider.url + presign("/aircall/4.mp3", int(time.time()) + 60), call_id=4)
    drain_until_settled(rec_app)
    assert len(provider.hits) == 4  # max_attempts
    (report,) = archived(fake_odoo).values()
    assert report["error"] == ("the provider is unavailable (HTTP 503) "
                               "(gave up after 4 attempts)")


def test_slow_provider_times_out_and_is_retried(rec_app, fake_odoo, provider):
    provider.delay = 3  # longer than the 2 s timeout
    post_aircall(rec_app.test_client(),
                 provider.url + presign("/aircall/5.mp3", int(time.time()) + 60), call_id=5)
    started = time.monotonic()
    worker(rec_app).run_once()
    assert time.monotonic() - started < 2.9
    (item,) = rec_app.extensions["bridge"].outbox.list("pending")
    assert "did not answer within 2 s" in item.last_error
    provider.delay = 0
    drain_until_settled(rec_app)
    assert "data" in next(iter(archived(fake_odoo).values()))


def test_dripping_provider_is_cut_at_the_timeout():
    fake = FakeProvider().start()
    try:
        fake.drip = 0.1  # 50 bytes at 10 a second: 5 s, more than the 1 s allowed
        url = fake.url + presign("/aircall/6.mp3", int(time.time()) + 60)
        with pytest.raises(RecordingError) as caught:
            fetch(RecordingSource.from_dict("aircall", {"timeout": 1}), url)
        assert caught.value.retry and "longer than 1 s" in caught.value.reason
    finally:
        fake.stop()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_too_large_recording_names_the_limit(rec_app, fake_odoo, provider, chunked):
    provider.chunked = chunked
    path = "/aircall/7.mp3"
    provider.sizes[path] = 100_001
    post_aircall(rec_app.test_client(), provider.url + presign(path, int(time.time()) + 60),
                 call_id=7)
    drain_until_settled(rec_app)
    assert len(provider.hits) == 1
    (report,) = archived(fake_odoo).values()
    assert report["error"].startswith("the recording is larger than the limit of 100000 bytes")
    assert "max_bytes" in report["error"]


def test_recording_waits_for_its_call(rec_app, fake_odoo, provider):
    """Odoo refuses the call at first (an error it will get over): the recording is
    fetched again later and archived once the call is there."""
    fake_odoo.reject_refs.add("8")
    post_aircall(rec_app.test_client(),
                 provider.url + presign("/aircall/8.mp3", int(time.time()) + 60), call_id=8)
    worker(rec_app).run_once()
    assert fake_odoo.recording_reports and not fake_odoo.recordings
    box = rec_app.extensions["bridge"].outbox
    assert [i.provider for i in box.list("pending")] == ["recording/aircall"]
    box.replay()
    fake_odoo.reject_refs.clear()
    drain_until_settled(rec_app)
    assert "data" in next(iter(archived(fake_odoo).values()))


def test_call_and_recording_are_stored_together(rec_app, provider, monkeypatch):
    """A call and its recording go into the outbox in one transaction: when storing the
    recording fails, the call is not stored either (the sender gets 503 and retries), and
    the retry stores both."""
    from webhook_bridge.outbox.base import Outbox

    insert = Outbox._insert

    def failing_recordings(self, cur, provider_name, items, now):
        if provider_name.startswith("recording/"):
            raise RuntimeError("disk full")
        return insert(self, cur, provider_name, items, now)

    monkeypatch.setattr(Outbox, "_insert", failing_recordings)
    body = json.loads((SAMPLES / "aircall_call_ended.json").read_bytes())
    body["data"].update(id=77, recording=provider.url + presign("/aircall/77.mp3",
                                                                int(time.time()) + 60))
    path, kwargs = signed("telephony", "aircall", json.dumps(body).encode(), "application/json")
    client = rec_app.test_client()
    response = client.post(path, **kwargs)
    assert response.status_code == 503, response.json
    box = rec_app.extensions["bridge"].outbox
    assert box.stats()["states"]["pending"] == 0  # not the call without its recording
    monkeypatch.setattr(Outbox, "_insert", insert)
    response = client.post(path, **kwargs)
    assert response.status_code == 202 and response.json["deliveries"][0]["duplicate"] is False
    assert sorted(i.provider for i in box.list("pending")) == ["recording/aircall",
                                                               "telephony/aircall"]


@pytest.mark.parametrize("link", ["http://[::1/x.mp3", "ftp://example.com/x.mp3", "x.mp3"])
def test_a_recording_link_that_cannot_be_fetched_leaves_the_call_alone(rec_app, link):
    response = post_aircall(rec_app.test_client(), link, call_id=78)
    assert response.status_code == 202
    box = rec_app.extensions["bridge"].outbox
    (call,) = box.list("pending")
    assert call.provider == "telephony/aircall"
    assert call.payload["call"]["recording_url"] == link


def test_odoo_down_keeps_the_recording(rec_app, fake_odoo, provider):
    post_aircall(rec_app.test_client(),
                 provider.url + presign("/aircall/9.mp3", int(time.time()) + 60), call_id=9)
    fake_odoo.fail_with = None
    fake_odoo.http_status = 502
    worker(rec_app).run_once()
    box = rec_app.extensions["bridge"].outbox
    assert box.stats()["states"]["pending"] == 2 and not provider.hits
    fake_odoo.http_status = None
    drain_until_settled(rec_app)
    assert "data" in next(iter(archived(fake_odoo).values()))


def test_no_recordings_config_queues_no_recording(client, outbox_of):
    response = post_aircall(client, "https://recordings.aircall.io/x.mp3")
    assert [outbox_of.get(d["delivery_id"]).provider
            for d in response.json["deliveries"]] == ["telephony/aircall"]
    assert outbox_of.stats()["states"]["pending"] == 1


@pytest.mark.parametrize("recordings, message", [
    ({"twilio": {"username": SID}}, "recordings.twilio: auth 'basic' needs username and password"),
    ({"aircall": {"auth": "bearer", "token": "t"}}, "recordings.aircall: credentials need hosts"),
    ({"aircall": {"maxbytes": 1}}, "recordings.aircall: unknown keys maxbytes"),
    ({"aircall": {"auth": "digest"}}, "recordings.aircall.auth: 'digest' is not one of"),
    ({"aircall": {"max_bytes": 100 * 2**20}}, "recordings.aircall.max_bytes: at most 94371840"),
])
def test_bad_recordings_config_is_refused(tmp_path, recordings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        create_app(bridge_config(tmp_path, recordings=recordings))


def test_recordings_config_from_environment(monkeypatch, tmp_path):
    from webhook_bridge.config import Config

    monkeypatch.setenv("BRIDGE_RECORDINGS_AIRCALL", '{"max_bytes": 1000}')
    config = Config.load(outbox_url=f"sqlite:///{tmp_path}/o.sqlite")
    assert config.recording_sources["aircall"].max_bytes == 1000
    monkeypatch.setenv("BRIDGE_RECORDINGS_AIRCALL", "{not json")
    with pytest.raises(ValueError, match="BRIDGE_RECORDINGS_AIRCALL: must be a JSON object"):
        Config.load()
