"""Asterisk CDRs as JSON (an object, a list, or ``{"cdrs": [...]}``) or CSV lines
(``Master.csv`` column order, or any order with a header line).

The legs of one call share a ``linkedid``: they are grouped into one call.  A CDR is final;
the item is keyed by the linkedid and a digest of the uniqueids of the legs it carries (a
call with many legs keeps a short key)."""

import csv
import hashlib
import io

from .. import normalize
from ..errors import InvalidFieldError, MalformedError
from .base import Item, is_json, json_body, verify_token_or_standard

verify = verify_token_or_standard
# cdr_csv's Master.csv columns (Asterisk 12+ with newcdrcolumns adds the last three).
CSV_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
               "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
               "disposition", "amaflags", "uniqueid", "userfield", "peeraccount", "linkedid",
               "sequence")
STATUS = {"ANSWERED": "completed", "NO ANSWER": "no_answer", "BUSY": "busy",
          "FAILED": "failed", "CONGESTION": "failed"}
RANK = ("ringing", "failed", "busy", "no_answer", "completed")  # best leg wins


def _records(ctx):
    if is_json(ctx):
        data = json_body(ctx, (dict, list))
        records = data.get("cdrs", [data]) if isinstance(data, dict) else data
    else:
        try:
            text = ctx.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedError("CSV body is not UTF-8", field="body") from None
        try:
            rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
        except csv.Error as error:
            raise MalformedError(f"CSV body is not valid CSV: {error}", field="body") from None
        if rows and "uniqueid" in [c.strip().lower() for c in rows[0]]:
            header, rows = [c.strip().lower() for c in rows[0]], rows[1:]
        else:
            header = CSV_COLUMNS
        records = [dict(zip(header, row)) for row in rows]
    if not isinstance(records, list) or not records:
        raise InvalidFieldError("cdrs", "no CDR records in the body")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidFieldError(f"cdrs[{i}]", "must be an object")
        for key in ("uniqueid", "linkedid"):
            value = record.get(key)
            if isinstance(value, (dict, list, bool)) or (isinstance(value, float)
                                                         and value != value):
                raise InvalidFieldError(f"cdrs[{i}].{key}", "must be a string")
            if value is not None:
                record[key] = normalize.text(value, f"cdrs[{i}].{key}", normalize.MAX_REF)
        if not record.get("uniqueid"):
            raise InvalidFieldError(f"cdrs[{i}].uniqueid", "is required")
    return records


def _agent(channel):
    """``PJSIP/1001-00000002`` -> ``1001``."""
    if not channel or "/" not in str(channel):
        return None
    return str(channel).split("/", 1)[1].rsplit("-", 1)[0] or None


def _call(linkedid, legs, ctx):
    first = next((leg for leg in legs if leg.get("uniqueid") == linkedid), legs[0])
    statuses = [STATUS.get(str(leg.get("disposition", "")).upper(), "failed") for leg in legs]
    status = max(statuses, key=RANK.index)
    answered = next((leg for leg in legs if leg.get("answer") and
                     str(leg.get("disposition", "")).upper() == "ANSWERED"), None)
    direction = first.get("direction") or (
        "outbound" if "internal" in str(first.get("dcontext", "")) else "inbound")

    def times(key):
        return [normalize.timestamp(leg.get(key), key, ctx.tz) for leg in legs if leg.get(key)]

    def seconds(key):
        return max((normalize.integer(leg.get(key), key) or 0 for leg in legs), default=None)
    return {
        "call_id": linkedid,
        "direction": direction,
        "status": status,
        "start": min(times("start"), default=None),
        "answer": normalize.timestamp(answered.get("answer"), "answer", ctx.tz)
        if answered else None,
        "end": max(times("end"), default=None),
        "duration": seconds("duration"),
        "billsec": seconds("billsec"),
        "caller_number": first.get("src"),
        "callee_number": first.get("dst"),
        "agent": _agent(first.get("channel") if direction == "outbound"
                        else answered.get("dstchannel")) if answered else None,
        "recording_url": next((leg["recordingfile"] for leg in legs
                               if leg.get("recordingfile")), None),
    }


def parse(ctx):
    groups = {}
    for record in _records(ctx):
        linkedid = record.get("linkedid") or record["uniqueid"]
        groups.setdefault(linkedid, []).append(record)
    items = []
    for linkedid, legs in groups.items():
        payload = normalize.call_case(_call(linkedid, legs, ctx), source_system="asterisk",
                                      region=ctx.region, tz=ctx.tz)
        legs_key = "\n".join(sorted(str(leg["uniqueid"]) for leg in legs))
        digest = hashlib.sha256(legs_key.encode()).hexdigest()[:32]
        items.append(Item(f"{linkedid}:{digest}", payload))
    return items
