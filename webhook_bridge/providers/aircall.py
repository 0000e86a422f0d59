"""Aircall call events (``call.created``, ``call.answered``, ``call.ended``...), JSON with the
webhook ``token`` in the body.  One item per (call id, event)."""

from .. import normalize, signatures
from ..errors import BridgeError
from .base import Ignored, Item, json_body

STATUS = {"call.created": "ringing", "call.ringing_on_agent": "ringing",
          "call.answered": "in_progress", "call.hungup": "completed",
          "call.ended": "completed"}
NAMES = {"call_id": "data.id", "direction": "data.direction", "start": "data.started_at",
         "answer": "data.answered_at", "end": "data.ended_at", "duration": "data.duration",
         "caller_number": "data.raw_digits", "callee_number": "data.raw_digits",
         "agent": "data.user.name", "recording_url": "data.recording"}


def verify(ctx):
    """Aircall puts its token in the JSON body: a body that is not a JSON object carries
    no token, and is refused as unauthenticated (401), never as malformed."""
    try:
        token = json_body(ctx).get("token")
    except BridgeError:
        token = None
    signatures.verify_token(ctx.secrets, token, field="token")


def parse(ctx):
    body = json_body(ctx)
    event = body.get("event")
    if not isinstance(event, str) or event not in STATUS:
        raise Ignored(f"event {event!r} carries no call to log")
    data = body.get("data")
    if not isinstance(data, dict):
        raise normalize.InvalidFieldError("data", "must be an object")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    number = data.get("number") if isinstance(data.get("number"), dict) else {}
    status = STATUS[event]
    if status == "completed" and not data.get("answered_at"):
        status = "no_answer"
    outbound = data.get("direction") == "outbound"
    external, ours = data.get("raw_digits"), number.get("digits")
    call = {
        "call_id": data.get("id"),
        "direction": data.get("direction"),
        "status": status,
        "start": data.get("started_at"),
        "answer": data.get("answered_at"),
        "end": data.get("ended_at"),
        "duration": data.get("duration"),
        "caller_number": ours if outbound else external,
        "callee_number": external if outbound else ours,
        "agent": user.get("name"),
        "recording_url": data.get("recording"),
    }
    with normalize.provider_names(NAMES):
        payload = normalize.call_case(call, source_system="aircall", region=ctx.region)
    return [Item(f"{payload['external_ref']}:{event}", payload)]
