"""Our own documented formats, signed with Standard Webhooks (``webhook-id`` deduplicates).

Telephony: a JSON object with the intake ``call`` keys at the top level (``call_id``,
``direction``, ``status``, ``caller_number``, ...) plus optional case fields.
Forms: JSON, urlencoded or multipart fields named like :data:`normalize.FORM_FIELDS`;
multipart files become attachments.
"""

from .. import normalize
from ..errors import InvalidFieldError, MalformedError
from .base import Item, form_fields, form_files, is_json, json_body, verify_standard

CALL_KEYS = ("call_id", "direction", "status", "start", "answer", "end", "duration", "billsec",
             "caller_number", "callee_number", "agent", "recording_url")

verify = verify_standard


def _case_fields(data):
    customer = data.get("customer") or {}
    if not isinstance(customer, dict):
        raise InvalidFieldError("customer", "must be an object")
    fields = {k: customer.get(k) for k in normalize.CUSTOMER_FIELDS}
    fields.update({k: data[k] for k in normalize.FORM_FIELDS if data.get(k) is not None})
    return fields


def parse_call(ctx):
    data = json_body(ctx)
    call = {k: data.get(k) for k in CALL_KEYS}
    payload = normalize.call_case(call, source_system="generic_phone", region=ctx.region,
                                  tz=ctx.tz, fields=_case_fields(data))
    return [Item(ctx.header("webhook-id"), payload)]


def parse_form(ctx):
    attachments = []
    if is_json(ctx):
        data = json_body(ctx)
        attachments = data.get("attachments") or []
        if not isinstance(attachments, list):
            raise InvalidFieldError("attachments", "must be a list")
    elif ctx.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = form_fields(ctx)
        attachments = [normalize.file_attachment(f) for f in form_files(ctx)]
    else:
        raise MalformedError("send JSON, urlencoded or multipart form data",
                             field="Content-Type")
    event_id = ctx.header("webhook-id")
    payload = normalize.form_case(_case_fields(data), source_system="generic_form",
                                  external_ref=data.get("submission_id")
                                  or normalize.bounded_id(event_id),
                                  region=ctx.region, attachments=attachments)
    return [Item(event_id, payload)]
