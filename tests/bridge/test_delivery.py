"""Delivery to Odoo: outages, permanent errors, per-item errors, exactly-once."""

import threading

import pytest
from fake_odoo import FakeOdoo
from helpers import SAMPLES, bridge_config, signed, standard_headers

from webhook_bridge import create_app
from webhook_bridge.config import Config
from webhook_bridge.delivery import DeliveryError, OdooClient, Worker, classify
from webhook_bridge.outbox import open_outbox

CALL = (SAMPLES / "telephony_generic.json").read_bytes()


def post_calls(client, n, prefix="call", expect=202):
    import json

    refs = []
    for i in range(n):
        body = json.dumps({**json.loads(CALL), "call_id": f"{prefix}-{i}"}).encode()
        response = client.post("/webhooks/telephony/generic", data=body,
                               content_type="application/json",
                               headers=standard_headers(body, f"{prefix}-msg-{i}"))
        assert response.status_code == expect
        refs.append(f"{prefix}-{i}")
    return refs


def worker_for(app):
    state = app.extensions["bridge"]
    return Worker(state["outbox"], OdooClient(state["config"].odoo), state["config"])


def test_delivers_batch(app, client, fake_odoo):
    refs = post_calls(client, 5)
    assert worker_for(app).drain() == 5
    assert all(fake_odoo.count(r) == 1 for r in refs) and fake_odoo.intake_calls == 1
    box = app.extensions["bridge"]["outbox"]
    assert box.stats()["states"] == {"pending": 0, "delivered": 5, "dead": 0}
    assert box.get(1).result == "created CMP00001"


def test_duplicate_webhook_yields_one_case(app, client, fake_odoo):
    post_calls(client, 1, "dup")
    post_calls(client, 1, "dup", expect=200)  # the provider retries the same event
    worker_for(app).drain()
    assert fake_odoo.count("dup-0") == 1 and len(fake_odoo.cases) == 1


def test_odoo_down_then_back_delivers_exactly_once(app, client, fake_odoo):
    fake_odoo.stop()
    refs = post_calls(client, 3, "down")  # accepted while Odoo is down
    worker = worker_for(app)
    worker.run_once()
    box = app.extensions["bridge"]["outbox"]
    assert box.stats()["states"]["pending"] == 3
    assert all(i.attempts == 1 and "cannot reach Odoo" in i.last_error
               for i in box.list("pending"))
    fake_odoo.start()  # same port
    worker.drain()
    assert [fake_odoo.count(r) for r in refs] == [1, 1, 1]
    assert box.stats()["states"]["delivered"] == 3
    assert box.stats()["counters"]["retried"] == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_transient(app, client, fake_odoo, status):
    post_calls(client, 1, "5xx")
    fake_odoo.http_status = status
    worker = worker_for(app)
    worker.run_once()
    assert app.extensions["bridge"]["outbox"].list("pending")[0].attempts == 1
    fake_odoo.http_status = None
    worker.drain()
    assert fake_odoo.count("5xx-0") == 1


def test_serialization_failure_is_transient(app, client, fake_odoo):
    post_calls(client, 2, "ser")
    fake_odoo.fail_with = "psycopg2.errors.SerializationFailure"
    worker = worker_for(app)
    worker.run_once()
    assert app.extensions["bridge"]["outbox"].stats()["states"]["pending"] == 2
    fake_odoo.fail_with = None
    worker.drain()
    assert fake_odoo.count("ser-0") == fake_odoo.count("ser-1") == 1


def test_backoff_grows_with_jitter_and_cap(make_config):
    worker = Worker(None, None, make_config(retry_base_seconds=2, retry_max_seconds=60))
    for attempts, low, high in [(1, 1, 2), (2, 2, 4), (3, 4, 8), (10, 30, 60)]:
        delays = {worker.backoff(attempts) for _ in range(50)}
        assert all(low <= d <= high for d in delays) and len(delays) > 1


def test_gives_up_after_max_attempts(tmp_path, fake_odoo):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), max_attempts=2))
    post_calls(app.test_client(), 1, "max")
    fake_odoo.fail_with = "builtins.RuntimeError"  # Odoo answers, with an unclassified error
    worker = worker_for(app)
    worker.run_once()
    worker.run_once()
    dead = app.extensions["bridge"]["outbox"].list("dead")
    assert len(dead) == 1 and "RuntimeError" in dead[0].last_error


def test_an_outage_never_dead_letters(tmp_path, fake_odoo):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), max_attempts=2))
    post_calls(app.test_client(), 1, "outage")
    fake_odoo.http_status = 503
    worker = worker_for(app)
    for _ in range(4):  # the probe fails too: the item is not attempted again
        worker.run_once()
    box = app.extensions["bridge"]["outbox"]
    assert box.list("dead") == [] and box.list("pending")[0].attempts == 1
    assert box.health()["failures"] >= 2 and "503" in box.health()["last_error"]
    fake_odoo.http_status = None
    worker.drain()
    assert fake_odoo.count("outage-0") == 1 and box.stats()["states"]["delivered"] == 1


def test_access_denied_dead_letters_then_replay_after_fix(tmp_path, fake_odoo):
    bad = {**fake_odoo.config(), "api_key": "wrong-key"}
    app = create_app(bridge_config(tmp_path, odoo=bad))
    refs = post_calls(app.test_client(), 3, "denied")
    worker_for(app).drain()
    box = app.extensions["bridge"]["outbox"]
    dead = box.list("dead")
    assert len(dead) == 3 and all("AccessDenied" in i.last_error for i in dead)
    assert fake_odoo.received == []
    # the operator fixes the key and replays
    fixed = Config.from_dict(bridge_config(tmp_path, odoo=fake_odoo.config()))
    assert box.replay() == 3
    Worker(box, OdooClient(fixed.odoo), fixed).drain()
    assert [fake_odoo.count(r) for r in refs] == [1, 1, 1]
    assert box.stats()["states"] == {"pending": 0, "delivered": 3, "dead": 0}


def test_validation_error_on_batch_isolates_the_culprit(app, client, fake_odoo):
    refs = post_calls(client, 3, "val")
    original = fake_odoo.intake

    def intake(payloads):  # the whole call fails whenever the bad item is in it
        if any(p["external_ref"] == "val-1" for p in payloads):
            from fake_odoo import OdooError
            raise OdooError("odoo.exceptions.ValidationError", "bad phone")
        return original(payloads)

    fake_odoo.intake = intake
    worker_for(app).drain()
    box = app.extensions["bridge"]["outbox"]
    assert [i.external_ref for i in box.list("dead")] == ["val-1"]
    assert "ValidationError: bad phone" in box.list("dead")[0].last_error
    assert fake_odoo.count(refs[0]) == fake_odoo.count(refs[2]) == 1


def test_per_item_error_dead_letters_only_that_item(app, client, fake_odoo):
    refs = post_calls(client, 3, "item")
    fake_odoo.reject_refs = {"item-1"}
    worker_for(app).drain()
    box = app.extensions["bridge"]["outbox"]
    assert [i.external_ref for i in box.list("dead")] == ["item-1"]
    assert box.stats()["states"]["delivered"] == 2
    assert fake_odoo.intake_calls == 1
    fake_odoo.reject_refs = set()  # fixed on the Odoo side: replay delivers it
    box.replay()
    worker_for(app).drain()
    assert refs[1] in {ref for _, ref in fake_odoo.cases}


def test_xmlrpc_protocol(tmp_path, fake_odoo):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config("xmlrpc")))
    refs = post_calls(app.test_client(), 2, "xml")
    worker_for(app).drain()
    assert [fake_odoo.count(r) for r in refs] == [1, 1]
    client = OdooClient(Config.from_dict(bridge_config(
        tmp_path, odoo={**fake_odoo.config("xmlrpc"), "api_key": "bad"})).odoo)
    with pytest.raises(DeliveryError) as exc:
        client.intake([{}])
    assert exc.value.permanent


def test_each_thread_calls_odoo_through_its_own_session(tmp_path, fake_odoo):
    """gunicorn's threads ask Odoo for case numbers (WeChat) at the same time: each has its
    own HTTP session, and all of them get their answers."""
    client = OdooClient(Config.from_dict(bridge_config(tmp_path, odoo=fake_odoo.config())).odoo)
    sessions, answers, errors = {}, {}, []
    start = threading.Barrier(6)

    def ask(n):
        try:
            start.wait(5)
            sessions[n] = client.session
            answers[n] = client.intake([{"channel": "phone", "source_system": "generic_phone",
                                         "external_ref": f"thread-{n}"}], timeout=10)
            assert client.session is sessions[n]  # the same thread keeps its session
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(answers) == 6
    assert sorted(a[0]["status"] for a in answers.values()) == ["created"] * 6
    assert len({id(s) for s in sessions.values()}) == 6


def test_classify():
    assert classify("odoo.exceptions.AccessDenied")
    assert classify("odoo.exceptions.ValidationError")
    assert classify("odoo.exceptions.UserError")
    assert classify("odoo.exceptions.AccessError")
    assert not classify("psycopg2.errors.SerializationFailure")
    assert not classify("builtins.KeyError")
    assert not classify("odoo.exceptions.UserError", "could not serialize access")


def test_out_of_order_events_keep_their_order_and_status(app, client, fake_odoo):
    """completed before ringing: both are delivered, each with its own status; the addon
    never downgrades, and the bridge never rewrites one event with another's data."""
    base = "CallSid=CAooo&From=%2B8613800138000&To=%2B862161234567&Direction=inbound"
    for status in ("completed", "ringing"):
        body = f"{base}&CallStatus={status}&CallDuration=30".encode()
        path, kw = signed("telephony", "twilio", body, "application/x-www-form-urlencoded")
        assert client.post(path, **kw).status_code == 202
    worker_for(app).drain()
    assert [p["call"]["status"] for p in fake_odoo.received] == ["completed", "ringing"]


@pytest.mark.postgres
def test_postgres_two_workers_deliver_each_item_exactly_once(tmp_path, pg_url):
    box = open_outbox(pg_url)
    box.run(lambda cur: cur.execute("TRUNCATE bridge_outbox, bridge_counters RESTART IDENTITY"))
    fake = FakeOdoo().start()
    fake.delay = 0.01  # keep both workers busy at the same time
    try:
        config = Config.from_dict(bridge_config(tmp_path, outbox_url=pg_url, batch_size=5,
                                                odoo=fake.config()))
        refs = [f"pg-{i}" for i in range(300)]
        box.enqueue("telephony/generic", [
            (ref, {"channel": "phone", "source_system": "generic_phone", "external_ref": ref})
            for ref in refs])
        threads = [threading.Thread(
            target=Worker(open_outbox(pg_url), OdooClient(config.odoo), config).drain)
            for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [fake.count(r) for r in refs] == [1] * 300
        assert fake.intake_calls >= 60
        assert box.stats()["states"] == {"pending": 0, "delivered": 300, "dead": 0}
    finally:
        fake.stop()
        box.close()
