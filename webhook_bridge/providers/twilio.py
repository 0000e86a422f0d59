"""Twilio voice status callbacks and recording callbacks (form-encoded, or JSON signed
through ``bodySHA256``).  One item per (CallSid, CallStatus) or per recording."""

from .. import normalize, signatures
from ..errors import MalformedError
from .base import Item, first, is_json, json_body, scalars

STATUS = {"queued": "ringing", "initiated": "ringing", "ringing": "ringing",
          "in-progress": "in_progress", "answered": "in_progress", "completed": "completed",
          "busy": "busy", "failed": "failed", "no-answer": "no_answer", "canceled": "no_answer"}
NAMES = {"call_id": "CallSid", "status": "CallStatus", "start": "Timestamp",
         "answer": "Timestamp", "end": "Timestamp", "duration": "CallDuration",
         "caller_number": "From", "callee_number": "To", "recording_url": "RecordingUrl"}
FORM = "application/x-www-form-urlencoded"


def verify(ctx):
    """Form callbacks: the signature covers every parameter (repeats included).  Anything
    else must carry ``bodySHA256`` in the signed URL, so the signature covers the body."""
    params = None
    if ctx.content_type == FORM:
        fields, _ = ctx.form()
        params = list(fields.items(multi=True))
    signatures.verify_twilio(ctx.secrets, ctx.public_url, ctx.header("X-Twilio-Signature"),
                             params=params, body=ctx.body,
                             settings=ctx.header("X-Twilio-Webhooks-Signature-Settings"))


def _data(ctx):
    if is_json(ctx):
        return scalars(json_body(ctx))
    if ctx.content_type != FORM:
        raise MalformedError("Twilio callbacks are form-encoded or JSON", field="Content-Type")
    fields, _ = ctx.form()
    return fields.to_dict()


def parse(ctx):
    data = _data(ctx)
    call_sid = data.get("CallSid")
    moment = data.get("Timestamp")
    recording = data.get("RecordingSid")
    if recording:  # a recording callback: the call is over, no CallStatus
        status, event_id = "completed", f"{call_sid}:recording:{recording}"
    else:
        raw = normalize.require(normalize.text(data.get("CallStatus"), "CallStatus", 64),
                                "CallStatus")
        status, event_id = STATUS.get(raw, raw), f"{call_sid}:{raw}"
    call = {
        "call_id": call_sid,
        "direction": "outbound" if str(data.get("Direction", "")).startswith("outbound")
        else "inbound",
        "status": status,
        "start": moment if status == "ringing" else None,
        "answer": moment if status == "in_progress" else None,
        "end": moment if status not in ("ringing", "in_progress") and not recording else None,
        "duration": first(data, "CallDuration", "RecordingDuration"),
        "caller_number": first(data, "From", "Caller"),
        "callee_number": first(data, "To", "Called"),
        "recording_url": data.get("RecordingUrl"),
    }
    with normalize.provider_names(NAMES):
        payload = normalize.call_case(call, source_system="twilio", region=ctx.region)
    return [Item(event_id, payload)]
