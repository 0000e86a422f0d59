"""Intake under concurrency, as several bridge workers meet it: real
concurrent XML-RPC calls (one connection per thread, started together) into
the Odoo started by scripts/test in multi-worker mode (--workers=2).

- Two calls carrying the same (source, external ref) answer `created` and
  `duplicate` with the same case, and the other items of both batches are saved.
- One caller, one open case: calls of new callers arriving at once in
  several batches end on one case per caller, every call attached to it.
- The possible-duplicate rule (same customer, same order) holds too.
- One conversation, one open case: messages of a new thread at once make one case.
No call answers a fault."""

import threading
import uuid
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.e2e
NEEDED = ("ODOO_URL", "ODOO_DB", "ODOO_INTAKE_LOGIN", "ODOO_INTAKE_API_KEY",
          "ODOO_ADMIN_LOGIN", "ODOO_ADMIN_PASSWORD", "ODOO_E2E_WORKERS")
THREADS = 4


@pytest.fixture(scope="module")
def odoo(odoo_settings):
    env = odoo_settings(*NEEDED)
    assert int(env["ODOO_E2E_WORKERS"]) >= 2, "these tests need Odoo in multi-worker mode"
    url = env["ODOO_URL"].rstrip("/")
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    bot_uid = common.authenticate(env["ODOO_DB"], env["ODOO_INTAKE_LOGIN"], env["ODOO_INTAKE_API_KEY"], {})
    admin_uid = common.authenticate(env["ODOO_DB"], env["ODOO_ADMIN_LOGIN"], env["ODOO_ADMIN_PASSWORD"], {})
    assert bot_uid and admin_uid

    def intake(batch):
        # A connection of its own per call, as separate bridge workers have.
        models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
        return models.execute_kw(env["ODOO_DB"], bot_uid, env["ODOO_INTAKE_API_KEY"],
                                 "complaint.case", "intake", [batch])

    def admin(model, method, *args, **kwargs):
        models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
        return models.execute_kw(env["ODOO_DB"], admin_uid, env["ODOO_ADMIN_PASSWORD"],
                                 model, method, list(args), kwargs)

    return intake, admin


def at_once(intake, batches):
    """Send the batches in parallel threads released together; return the answers in order."""
    barrier = threading.Barrier(len(batches))

    def send(batch):
        barrier.wait()
        return intake(batch)

    with ThreadPoolExecutor(len(batches)) as pool:
        return list(pool.map(send, batches))


def web_form(ref, **values):
    item = {"channel": "web_form", "source_system": "e2e_concurrency", "external_ref": ref,
            "customer": {"name": "Concurrent Customer", "email": f"{ref}@example.org"},
            "subject": "Concurrent complaint", "description": "Sent twice at once."}
    item.update(values)
    return item


def call(call_id, number):
    return {"channel": "phone", "source_system": "e2e_pbx", "external_ref": call_id, "customer": {},
            "call": {"call_id": call_id, "direction": "inbound", "status": "completed",
                     "caller_number": number, "duration": 60}}


def test_same_reference_at_once_is_one_case_answered_duplicate(odoo):
    intake, admin = odoo
    for _round in range(3):
        shared = f"dup-{uuid.uuid4().hex[:10]}"
        batches = [
            [web_form(f"own-{uuid.uuid4().hex[:10]}") for _ in range(5)] + [web_form(shared)]
            + [web_form(f"own-{uuid.uuid4().hex[:10]}") for _ in range(5)]
            for _thread in range(THREADS)
        ]
        answers = at_once(intake, batches)
        shared_answers = [answer[5] for answer in answers]
        assert sorted(a["status"] for a in shared_answers) == ["created"] + ["duplicate"] * (THREADS - 1), answers
        assert len({a["id"] for a in shared_answers}) == 1
        for answer in answers:
            own = answer[:5] + answer[6:]
            assert [a["status"] for a in own] == ["created"] * 10, answer
        assert admin("complaint.case", "search_count", [("external_ref", "=", shared)]) == 1


def test_one_caller_one_open_case_under_concurrent_calls(odoo):
    intake, admin = odoo
    callers = [f"+86 139 {uuid.uuid4().int % 10**8:08d}" for _ in range(8)]
    batches = [
        [call(f"cc-{thread}-{i}-{uuid.uuid4().hex[:8]}", number) for i, number in enumerate(callers)]
        for thread in range(THREADS)
    ]
    answers = at_once(intake, batches)
    for answer in answers:
        assert all(a["status"] in ("created", "updated") for a in answer), answer
    for i, number in enumerate(callers):
        case_ids = {answer[i]["id"] for answer in answers}
        assert len(case_ids) == 1, f"caller {number} got {len(case_ids)} cases"
        e164 = number.replace(" ", "")
        cases = admin("complaint.case", "search_read", [("customer_phone_sanitized", "=", e164)],
                      fields=["call_count"])
        assert len(cases) == 1, cases
        assert cases[0]["call_count"] == THREADS
        assert sum(answer[i]["status"] == "created" for answer in answers) == 1


def test_same_customer_and_order_at_once_is_flagged(odoo):
    intake, admin = odoo
    email = f"order-{uuid.uuid4().hex[:10]}@example.org"
    partner_id = admin("res.partner", "create", {"name": "Concurrent Order Customer", "email": email})
    order_id = admin("sale.order", "create", {"partner_id": partner_id})
    order_name = admin("sale.order", "read", [order_id], fields=["name"])[0]["name"]
    batches = [[web_form(f"ord-{uuid.uuid4().hex[:10]}", order_ref=order_name,
                         customer={"name": "Concurrent Order Customer", "email": email})]
               for _thread in range(2)]
    answers = at_once(intake, batches)
    ids = [answer[0]["id"] for answer in answers]
    assert [answer[0]["status"] for answer in answers] == ["created", "created"], answers
    cases = admin("complaint.case", "read", ids, fields=["possible_duplicate_of_id", "sale_order_id"])
    assert all(c["sale_order_id"] and c["sale_order_id"][0] == order_id for c in cases), cases
    flagged = [c for c in cases if c["possible_duplicate_of_id"]]
    assert len(flagged) == 1, cases
    assert flagged[0]["possible_duplicate_of_id"][0] in ids


def test_messages_of_one_new_conversation_at_once_make_one_case(odoo):
    """Bridge workers delivering several messages of one new conversation (a WeChat
    follower) at once: one case, every other message in its chatter, each once."""
    intake, admin = odoo
    for _round in range(2):
        thread = f"oConc{uuid.uuid4().hex[:16]}"
        refs = [f"wx-{uuid.uuid4().hex[:12]}" for _ in range(THREADS)]
        batches = [[{"channel": "social_media", "source_system": "e2e_wechat", "external_ref": ref,
                     "thread_ref": thread, "customer": {"name": "Concurrent follower"},
                     "description": f"message {ref}"}] for ref in refs]
        answers = [answer[0] for answer in at_once(intake, batches)]
        assert sorted(a["status"] for a in answers) == ["created"] + ["updated"] * (THREADS - 1), answers
        assert len({a["id"] for a in answers}) == 1
        cases = admin("complaint.case", "search_read", [("thread_ref", "=", thread)], fields=["external_ref"])
        assert len(cases) == 1, cases
        messages = admin("mail.message", "search_read", [("model", "=", "complaint.case"),
                                                         ("res_id", "=", cases[0]["id"])], fields=["body"])
        for ref in refs:
            if ref != cases[0]["external_ref"]:
                assert sum(ref in m["body"] for m in messages) == 1, (ref, messages)
