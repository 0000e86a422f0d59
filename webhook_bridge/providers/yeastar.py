"""Yeastar ``NewCdr`` events: S-series (``callid``, ``timestart``, ``callfrom``...) and
P-series (``call_id``, ``time_start``, ``call_from``..., possibly inside a JSON ``msg``).
A CDR is final: one item per call id."""

from .. import normalize
from .base import Ignored, Item, first, json_body, load_json, scalars, verify_token_or_standard

verify = verify_token_or_standard
STATUS = {"ANSWERED": "completed", "NO ANSWER": "no_answer", "BUSY": "busy",
          "FAILED": "failed", "VOICEMAIL": "no_answer"}
NAMES = {"call_id": "callid", "start": "timestart", "duration": "callduraction",
         "billsec": "talkduraction", "caller_number": "callfrom", "callee_number": "callto",
         "recording_url": "recording"}


def parse(ctx):
    data = json_body(ctx)
    event = first(data, "action", "event") or data.get("type")
    if isinstance(data.get("msg"), str):  # P-series wraps the event in a JSON string
        inner = load_json(data["msg"], field="msg")
        data = {**data, **inner} if isinstance(inner, dict) else data
    if str(event) not in ("NewCdr", "30012"):
        raise Ignored(f"event {event!r} is not a NewCdr")
    scalars(data)
    kind = str(first(data, "call_type", "calltype") or data.get("type") or "")
    if kind.lower() not in ("inbound", "outbound"):
        kind = "outbound" if data.get("desttrunkname") and not data.get("srctrunkname") \
            else "inbound"
    call = {
        "call_id": first(data, "callid", "call_id", "uid"),
        "direction": kind.lower(),
        "status": STATUS.get(str(data.get("status") or "").upper(), data.get("status")),
        "start": first(data, "timestart", "time_start"),
        "duration": first(data, "callduraction", "call_duration"),
        "billsec": first(data, "talkduraction", "talk_duration"),
        "caller_number": first(data, "callfrom", "call_from"),
        "callee_number": first(data, "callto", "call_to"),
        "recording_url": data.get("recording"),
    }
    with normalize.provider_names(NAMES):
        payload = normalize.call_case(call, source_system="yeastar", region=ctx.region,
                                      tz=ctx.tz)
    return [Item(payload["external_ref"], payload)]
