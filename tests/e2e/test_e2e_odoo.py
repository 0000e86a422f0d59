"""End to end against a real Odoo with complaint_handling installed (started by scripts/test):
a signed webhook goes into the bridge, the worker delivers it, and Odoo has a case with the
partner matched by phone and the call logged."""

import base64
import hashlib
import hmac
import json
import io
import re
import time
import uuid
import zipfile
from urllib.parse import urlencode

import pytest
import requests
from odoo_rpc import NEEDED, Rpc, bridge_app

pytestmark = pytest.mark.e2e
WHSEC = "whsec_" + base64.b64encode(b"e2e-generic-secret-0123456789abcd").decode()
TWILIO_TOKEN = "e2e-twilio-token"


@pytest.fixture(scope="module")
def env(odoo_settings):
    return odoo_settings(*NEEDED)


@pytest.fixture(scope="module")
def admin(env):
    return Rpc.admin(env)


@pytest.fixture
def bridge(env, tmp_path):
    return bridge_app(env, tmp_path,
                      secrets={"telephony/generic": [WHSEC], "twilio": [TWILIO_TOKEN]})


@pytest.fixture
def partner(admin):
    """A partner with a mobile number nobody else has; the calls give it in national format
    (``139...``) and the bridge normalises it to E.164 with the default region CN."""
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    name = f"E2E caller {digits}"
    partner_id = admin("res.partner", "create", {
        "name": name, "phone": f"+86 139 {digits[:4]} {digits[4:]}"})
    return {"id": partner_id, "local": f"139{digits}", "e164": f"+86139{digits}"}


def assert_delivered(bridge):
    bridge.deliver()
    states = bridge.outbox.stats()["states"]
    dead = [(i.external_ref, i.last_error) for i in bridge.outbox.list("dead")]
    assert not dead, f"dead-lettered by Odoo: {dead}"
    assert states["pending"] == 0 and states["delivered"] >= 1, states


def assert_case_and_call(admin, external_ref, source_system, partner, status):
    cases = admin("complaint.case", "search_read", [("external_ref", "=", external_ref)],
                  fields=["partner_id", "external_ref"])
    assert len(cases) == 1, cases
    assert cases[0]["partner_id"] and cases[0]["partner_id"][0] == partner["id"], cases
    calls = admin("complaint.call", "search_read", [("call_id", "=", external_ref)],
                  fields=["call_id", "case_id", "source_system", "status"])
    assert len(calls) == 1, calls
    assert calls[0]["case_id"][0] == cases[0]["id"]
    assert calls[0]["source_system"] == source_system and calls[0]["status"] == status


def test_generic_call_creates_case_with_partner_and_call(admin, bridge, partner):
    from webhook_bridge.signatures import standard_sign

    call_id = f"e2e-{uuid.uuid4().hex[:12]}"
    body = json.dumps({
        "call_id": call_id, "direction": "inbound", "status": "completed",
        "caller_number": partner["local"], "callee_number": "021 6123 4567",
        "start": "2024-05-14T08:30:00Z", "answer": "2024-05-14T08:30:04Z",
        "end": "2024-05-14T08:31:10Z", "duration": 70, "billsec": 66,
        "description": "E2E: the kettle leaks.", "urgency": "urgent",
        "category": "product_quality"}).encode()
    ts = int(time.time())
    headers = {"webhook-id": f"msg-{call_id}", "webhook-timestamp": str(ts),
               "webhook-signature": standard_sign(WHSEC, f"msg-{call_id}", ts, body)}
    client = bridge.test_client()
    response = client.post("/webhooks/telephony/generic", data=body, headers=headers,
                           content_type="application/json")
    assert response.status_code == 202, response.json
    assert_delivered(bridge)
    assert_case_and_call(admin, call_id, "generic_phone", partner, "completed")
    # the provider retries: still one case
    again = client.post("/webhooks/telephony/generic", data=body, headers=headers,
                        content_type="application/json")
    assert again.status_code == 200
    assert_delivered(bridge)
    assert_case_and_call(admin, call_id, "generic_phone", partner, "completed")


def test_twilio_callbacks_out_of_order(admin, bridge, partner):
    call_sid = "CA" + uuid.uuid4().hex
    client = bridge.test_client()
    url = "http://localhost/webhooks/telephony/twilio"
    for status in ("completed", "ringing"):  # completed arrives first: no downgrade
        params = {"CallSid": call_sid, "CallStatus": status, "From": partner["e164"],
                  "To": "+862161234567", "Direction": "inbound", "CallDuration": "42",
                  "Timestamp": "Tue, 14 May 2024 08:31:05 +0000"}
        data = url + "".join(k + v for k, v in sorted(params.items()))
        signature = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(),
                                              hashlib.sha1).digest()).decode()
        response = client.post("/webhooks/telephony/twilio", data=urlencode(params),
                               content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code == 202, response.json
        assert_delivered(bridge)
    assert_case_and_call(admin, call_sid, "twilio", partner, "completed")


def test_contact_sheet_prints_as_pdf_in_english_and_chinese(env, admin):
    """The paper form comes out of wkhtmltopdf, with its labels in Chinese when asked."""
    category = admin("ir.model.data", "check_object_reference", "complaint_handling",
                     "category_product_quality")[1]
    case_id = admin("complaint.case", "create", {
        "subject": "E2E lid does not close", "channel": "phone", "customer_name": "E2E customer",
        "customer_phone": "+86 139 0000 0000", "category_id": category, "kind": "appeal",
        "urgency": "general", "quality_related": True})
    sheet_id = admin("complaint.contact.sheet", "create", {
        "case_id": case_id, "defect_description": "The lid does not close.", "lot_number": "E2E-LOT"})
    [sheet] = admin("complaint.contact.sheet", "read", [sheet_id], ["name"])
    zh = admin("res.lang", "search", [("code", "=", "zh_CN"), ("active", "in", (True, False))])
    wizard = admin("base.language.install", "create", {"lang_ids": [(6, 0, zh)], "overwrite": False})
    admin("base.language.install", "lang_install", [wizard])

    session = requests.Session()
    login = session.post(env["ODOO_URL"].rstrip("/") + "/web/session/authenticate", timeout=60, json={
        "jsonrpc": "2.0", "params": {"db": env["ODOO_DB"], "login": env["ODOO_ADMIN_LOGIN"],
                                     "password": env["ODOO_ADMIN_PASSWORD"]}})
    assert login.json().get("result", {}).get("uid"), login.text[:500]
    report = "complaint_handling.report_complaint_contact_sheet"
    for lang, label in (("en_US", "Customer Complaint Contact Sheet"), ("zh_CN", "客户抱怨联络单")):
        context = json.dumps({"lang": lang})
        pdf = session.get(f"{env['ODOO_URL'].rstrip('/')}/report/pdf/{report}/{sheet_id}",
                          params={"context": context}, timeout=180)
        assert pdf.status_code == 200, pdf.text[:500]
        assert pdf.content.startswith(b"%PDF"), pdf.content[:200]
        html = session.get(f"{env['ODOO_URL'].rstrip('/')}/report/html/{report}/{sheet_id}",
                           params={"context": context}, timeout=60)
        assert label in html.text and sheet["name"] in html.text, lang


def test_audit_export_holds_a_real_pdf_dossier_per_case(admin):
    """The audit ZIP from the running server: each case's dossier is a PDF of
    its own (wkhtmltopdf renders the batch; Odoo splits it per case)."""
    category = admin("ir.model.data", "check_object_reference", "complaint_handling",
                     "category_product_quality")[1]
    day = f"2024-0{uuid.uuid4().int % 9 + 1}-1{uuid.uuid4().int % 9}"
    case_ids = [admin("complaint.case", "create", {
        "subject": f"E2E audit {n}", "channel": "phone", "customer_name": "E2E auditor",
        "customer_phone": "+86 139 0000 0001", "category_id": category, "kind": "appeal",
        "urgency": "general", "received_date": f"{day} 0{n}:00:00"}) for n in (1, 2)]
    admin("ir.attachment", "create", {"name": "evidence.txt", "res_model": "complaint.case",
                                      "res_id": case_ids[0], "datas": base64.b64encode(b"e2e").decode()})
    export_id = admin("complaint.audit.export", "create", {"date_from": day, "date_to": day})
    action = admin("complaint.audit.export", "action_export", [export_id])
    attachment_id = int(re.search(r"/web/content/(\d+)", action["url"])[1])
    [attachment] = admin("ir.attachment", "read", [attachment_id], ["datas"])
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment["datas"])))
    names = [case["name"] for case in admin("complaint.case", "read", case_ids, ["name"])]
    pdfs = [archive.read(f"{name}/{name}.pdf") for name in names]
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs), [pdf[:20] for pdf in pdfs]
    assert pdfs[0] != pdfs[1], "one dossier per case"
    assert any(n.endswith("-evidence.txt") for n in archive.namelist()), archive.namelist()
    index = archive.read("index.csv").decode("utf-8-sig")
    assert all(name in index for name in names), index
