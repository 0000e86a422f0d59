"""Intake fuzzed as an outside client would: JSON-RPC to the real Odoo as the
intake bot, each call a batch of a valid item, an item with one field
replaced by an arbitrary JSON value (NaN, infinities, huge integers, control
characters, nested lists and objects included), and another valid item.

Whatever the arbitrary value, the call answers (no fault), both valid items
are saved, and the fuzzed item is either saved or gets its own error naming
the field it carries."""

import json
import math
import os
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e
NEEDED = ("ODOO_URL", "ODOO_DB", "ODOO_INTAKE_LOGIN", "ODOO_INTAKE_API_KEY")
# Where a value can be put: (path in the payload, field named in errors).
FIELDS = [
    ("channel",), ("subject",), ("description",), ("category",), ("urgency",), ("expectation",),
    ("amount_claimed",), ("received_at",), ("order_ref",), ("attachments",), ("customer",),
    ("customer", "name"), ("customer", "phone"), ("customer", "email"), ("customer", "address"),
    ("call",), ("call", "call_id"), ("call", "status"), ("call", "direction"), ("call", "start"),
    ("call", "duration"), ("call", "billsec"), ("call", "caller_number"), ("call", "recording_url"),
]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["", "0001-01-01T00:00:00Z", "9999-12-31", "2026-05-04T09:00:00+08:00",
                     "phone", "urgent", "+8613800138000", "\x00", "nan", "1e999"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def intake(odoo_settings):
    settings_ = odoo_settings(*NEEDED)
    url = settings_["ODOO_URL"].rstrip("/") + "/jsonrpc"
    db, key = settings_["ODOO_DB"], settings_["ODOO_INTAKE_API_KEY"]

    def call(service, method, *args):
        # NaN and infinities go out as JSON's common extension, as Python clients send them.
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1,
                           "params": {"service": service, "method": method, "args": list(args)}})
        response = requests.post(url, data=body, timeout=120,
                                 headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return response.json()

    uid = call("common", "authenticate", db, settings_["ODOO_INTAKE_LOGIN"], key, {})["result"]
    assert uid, "the intake bot's API key was refused"
    return lambda payloads: call("object", "execute_kw", db, uid, key, "complaint.case", "intake",
                                 [payloads])


def valid_item(ref):
    """A valid phone complaint from a caller of its own (no open case to join)."""
    phone = "+86138" + str(uuid.uuid4().int)[:8]
    return {
        "channel": "phone", "source_system": "fuzz", "external_ref": ref,
        "customer": {"name": "Fuzz Customer", "phone": phone, "email": f"{ref}@example.cn",
                     "address": "1 Fuzz Road"},
        "subject": "Fuzzed complaint", "description": "Something broke.", "category": "product_quality",
        "urgency": "general", "expectation": "repair", "amount_claimed": 12.5,
        "received_at": "2026-05-04T09:00:00Z", "order_ref": "NO-SUCH-ORDER",
        "attachments": [],
        "call": {"call_id": ref, "direction": "inbound", "status": "completed",
                 "start": "2026-05-04T09:00:00Z", "duration": 60, "billsec": 50,
                 "caller_number": phone, "recording_url": "https://example.cn/r.mp3"},
    }


def put(item, path, value):
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@settings(max_examples=int(os.environ.get("COMPLAINT_FUZZ_EXAMPLES", "80")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(FIELDS), value=json_values)
def test_each_fuzzed_item_is_saved_or_its_own_error(intake, path, value):
    refs = [f"fuzz-{uuid.uuid4().hex}" for _i in range(3)]
    fuzzed = valid_item(refs[1])
    put(fuzzed, path, value)
    answer = intake([valid_item(refs[0]), fuzzed, valid_item(refs[2])])
    assert "error" not in answer, f"the call failed for {path}={value!r}: {answer.get('error')}"
    first, middle, last = answer["result"]
    assert first["status"] == "created" and last["status"] == "created", answer
    # Saved as a new case, joined to an open case of the same caller or call, or refused.
    assert middle["status"] in ("created", "updated", "duplicate", "error"), middle
    if middle["status"] == "error":
        field = ".".join(path)
        assert f"'{field}" in middle["error"], f"{field}={value!r}: {middle['error']}"
    else:
        assert middle["id"] and middle["number"], middle


def test_the_fuzz_reaches_the_edges(intake):
    """The values the issue names are among what the fuzz sends: checked here
    directly, so that they are tried on every run."""
    edges = [(("received_at",), "0001-01-01T00:00:00Z"), (("received_at",), "9999-12-31T00:00:00Z"),
             (("amount_claimed",), math.nan), (("amount_claimed",), math.inf),
             (("call", "duration"), 99999999999), (("subject",), "NUL\x00byte")]
    for path, value in edges:
        fuzzed = valid_item(f"edge-{uuid.uuid4().hex}")
        put(fuzzed, path, value)
        answer = intake([fuzzed])
        assert "error" not in answer, answer
        assert answer["result"][0]["status"] == "error", (path, value, answer)
        assert f"'{'.'.join(path)}'" in answer["result"][0]["error"]
