"""Shared helpers that turn provider values into the canonical intake payload.

Every validation failure raises :class:`InvalidFieldError` naming the field.
"""

import base64
import binascii
import hashlib
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from .errors import InvalidFieldError

# Channels, categories, urgencies and expectations are Odoo's to define and validate: the
# bridge passes their codes through (a category added in Odoo works without a code change).
# Only the call facts the bridge itself derives (status, direction) are checked here.
CALL_STATUSES = ("ringing", "in_progress", "completed", "no_answer", "busy", "failed")
DIRECTIONS = ("inbound", "outbound")
EXPECTATION_ALIASES = {"price_cut": "price_reduction", "discount": "price_reduction"}
CUSTOMER_FIELDS = ("name", "phone", "email", "address")
CASE_FIELDS = ("order_ref", "subject", "description", "urgency", "category", "expectation",
               "amount_claimed")
# The flat field names a form (or a field map) can fill in.
FORM_FIELDS = CUSTOMER_FIELDS + CASE_FIELDS + ("channel", "external_ref")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Odoo's intake limits (models/complaint_case_intake.py): what it cannot store is refused
# here, at the door, with the field named, rather than failing in delivery.
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
CONTROL_CHARACTERS = re.compile(f"[{CONTROLS}]")
# ... and lone surrogates (not valid Unicode: PostgreSQL and JSON encoders refuse them),
# both found in one pass over a text
UNSTORABLE = re.compile(rf"[{CONTROLS}\ud800-\udfff]")
INF = float("inf")
MAX_TEXT = 100_000
MAX_REF = 256  # external_ref, call_id (and so event ids)
MAX_CODE = 64  # source_system, category, order_ref
MAX_INTEGER = 2**31 - 1
MAX_AMOUNT = 1e12
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LIMITS = {"name": 256, "phone": 64, "email": 256, "address": 1024, "order_ref": MAX_CODE,
          "subject": 256, "description": MAX_TEXT, "category": MAX_CODE, "agent": 256,
          "recording_url": 2048, "attachment_name": 256, "mimetype": 128}


# --- scalars -------------------------------------------------------------------------------

def text(value, field, max_len=MAX_TEXT):
    """A stripped string or None; numbers are accepted and stringified."""
    if value is None:
        return None
    if value.__class__ is not str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidFieldError(field, "must be a string")
        if isinstance(value, float) and (value != value or value in (INF, -INF)):
            raise InvalidFieldError(field, "must be a string or a finite number")
        value = str(value)
    value = value.strip()
    bad = UNSTORABLE.search(value)
    if bad:
        if "\ud800" <= bad.group() <= "\udfff":
            raise InvalidFieldError(field, "is not valid Unicode")
        raise InvalidFieldError(field, "contains a control character")
    if len(value) > max_len:
        raise InvalidFieldError(field, f"longer than {max_len} characters")
    return value or None


SAFE_ID = re.compile(r"^[\x20-\x7e\u00a0-\ud7ff\ue000-\U0010ffff]{1,256}$")


def bounded_id(value):
    """A provider's id as a key of at most 256 printable characters (Odoo's external_ref):
    as is when it fits, else ``sha256:<hex>`` of it (the same id, the same key)."""
    value = str(value)
    if SAFE_ID.match(value):
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def require(value, field):
    if value in (None, ""):
        raise InvalidFieldError(field, "is required")
    return value


def code(value, field, aliases=None):
    """A selection code as Odoo spells them (lower case, spaces/dashes as underscores);
    Odoo validates it against its own list."""
    value = text(value, field, MAX_CODE)
    if value is None:
        return None
    key = re.sub(r"[\s\-]+", "_", value.lower())
    return (aliases or {}).get(key, key)


def choice(value, field, allowed, aliases=None):
    """A code from ``allowed`` (the bridge's own call facts), matched like :func:`code`."""
    key = code(value, field, aliases)
    if key is not None and key not in allowed:
        raise InvalidFieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return key


def integer(value, field):
    """A whole number of seconds, 0 to 2**31 - 1 (Odoo's integer columns)."""
    if value in (None, ""):
        return None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise InvalidFieldError(field, f"{_short(value)} is not a number of seconds")
    if number < 0:
        raise InvalidFieldError(field, "cannot be negative")
    if number > MAX_INTEGER:
        raise InvalidFieldError(field, f"larger than {MAX_INTEGER}")
    return int(number)


def _short(value, size=60):
    """``repr`` of a value for an error message, cut short."""
    shown = repr(value)
    return shown if len(shown) <= size else shown[:size] + "..."


def amount(value, field="amount_claimed"):
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        cleaned = re.sub(r"[^\d.\-]", "", str(value).replace(",", ""))
        try:
            number = float(cleaned)
        except ValueError:
            raise InvalidFieldError(field, f"{_short(value)} is not an amount") from None
    if number != number or number < 0 or number > MAX_AMOUNT:
        raise InvalidFieldError(field, f"{_short(value)} is not an amount from 0 to "
                                       f"{MAX_AMOUNT:.0f}")
    return round(number, 2)


def email(value, field="email"):
    value = text(value, field, LIMITS["email"])
    if value is not None and not EMAIL_RE.match(value):
        raise InvalidFieldError(field, f"{_short(value)} is not an e-mail address")
    return value


def phone(value, region="", field="phone"):
    """E.164 when ``phonenumbers`` can make sense of it, else the trimmed raw string."""
    value = text(value, field, LIMITS["phone"])
    return None if value is None else _e164(value, region)


_E164 = {}  # (value, region) -> E.164 or value; bounded, shared by threads (GIL-atomic ops)


def _e164(value, region):
    key = (value, region)
    found = _E164.get(key)
    if found is None:
        found = _parse_e164(value, region)
        if len(_E164) > 8192:
            _E164.clear()
        _E164[key] = found
        if found != value:  # E.164 is its own normal form: the customer phone, next
            _E164[(found, region)] = found
    return found


def _parse_e164(value, region):
    candidate = "+" + value[2:] if value.startswith("00") else value
    try:
        parsed = phonenumbers.parse(candidate, region or None)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return value


def timestamp(value, field, tz="UTC"):
    """ISO-8601 UTC (``2024-05-01T08:30:00Z``) from epoch seconds, ISO-8601, RFC 2822 or a
    naive ``YYYY-MM-DD HH:MM:SS`` in the PBX time zone ``tz``; from 1970 until tomorrow, as
    Odoo stores it."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, str) and len(value) > 64:
        raise InvalidFieldError(field, "is not a date and time (too long)")
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(float(value), timezone.utc)
        elif isinstance(value, str) and re.fullmatch(r"\d{9,11}(\.\d+)?", value.strip()):
            moment = datetime.fromtimestamp(float(value), timezone.utc)
        elif isinstance(value, str) and re.match(r"^\d{4}[-/]\d\d[-/]\d\d", value.strip()):
            value = value.strip().replace("/", "-", 2).replace("Z", "+00:00")
            moment = datetime.fromisoformat(value)
        elif isinstance(value, str):
            moment = parsedate_to_datetime(value)
        else:
            raise ValueError
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(tz))
        moment = moment.astimezone(timezone.utc)
    except (ValueError, TypeError, OverflowError, OSError, IndexError):
        raise InvalidFieldError(field, f"{_short(value)} is not a date and time") from None
    if not EARLIEST <= moment <= datetime.now(timezone.utc) + timedelta(days=1):
        raise InvalidFieldError(field, f"{_short(value)} is out of range (1970 until today)")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(name):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def attachment(item, field="attachments"):
    if not isinstance(item, dict):
        raise InvalidFieldError(field, "each attachment must be an object")
    name = require(text(item.get("name"), f"{field}.name", LIMITS["attachment_name"]),
                   f"{field}.name")
    data = item.get("data")
    if not isinstance(data, str):
        raise InvalidFieldError(f"{field}.data", "must be a base64 string")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFieldError(f"{field}.data", "is not valid base64") from None
    mimetype = text(item.get("mimetype"), f"{field}.mimetype", LIMITS["mimetype"])
    return {"name": name, "mimetype": mimetype or "application/octet-stream", "data": data}


def file_attachment(storage):
    """A werkzeug ``FileStorage`` as an intake attachment."""
    return attachment({
        "name": storage.filename or storage.name or "attachment",
        "mimetype": storage.mimetype or "application/octet-stream",
        "data": base64.b64encode(storage.read()).decode(),
    })


PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,}$")


def mask_phone(value):
    """A phone number with all but the last 4 digits hidden: ``+8613800001234`` ->
    ``***1234``.  A value that is not phone-like (``anonymous``, an extension) is kept."""
    if not value or not isinstance(value, str) or not PHONE_LIKE.match(value.strip()):
        return value
    digits = re.sub(r"\D", "", value)
    return "***" + digits[-4:] if len(digits) >= 7 else value


# --- payloads ------------------------------------------------------------------------------

def case_payload(fields, *, source_system, external_ref, channel="web_form", region="",
                 attachments=(), call=None):
    """The canonical intake payload from flat ``fields`` (names in :data:`FORM_FIELDS`)."""
    channel = code(fields.get("channel") or channel, "channel")
    external_ref = require(text(fields.get("external_ref") or external_ref, "external_ref",
                                MAX_REF), "external_ref")
    customer = {
        "name": text(fields.get("name"), "name", LIMITS["name"]),
        "phone": phone(fields.get("phone"), region),
        "email": email(fields.get("email")),
        "address": text(fields.get("address"), "address", LIMITS["address"]),
    }
    if not isinstance(attachments, (list, tuple)):
        raise InvalidFieldError("attachments", "must be a list")
    payload = {
        "channel": channel,
        "source_system": source_system,
        "external_ref": external_ref,
        "customer": {k: v for k, v in customer.items() if v is not None},
        "order_ref": text(fields.get("order_ref"), "order_ref", LIMITS["order_ref"]),
        "subject": text(fields.get("subject"), "subject", LIMITS["subject"]),
        "description": text(fields.get("description"), "description"),
        "urgency": code(fields.get("urgency"), "urgency"),
        "category": code(fields.get("category"), "category"),
        "expectation": code(fields.get("expectation"), "expectation", EXPECTATION_ALIASES),
        "amount_claimed": amount(fields.get("amount_claimed")),
        "attachments": [attachment(a, f"attachments[{i}]") for i, a in enumerate(attachments)],
    }
    if call is not None:
        payload["call"] = call
    return {k: v for k, v in payload.items() if v is not None}


def form_case(fields, *, source_system, external_ref, region="", attachments=()):
    """A web-form case: it must say something (a description or a subject)."""
    payload = case_payload(fields, source_system=source_system, external_ref=external_ref,
                           region=region, attachments=attachments)
    if not payload.get("description") and not payload.get("subject"):
        raise InvalidFieldError("description", "is required (or a subject)")
    return payload


def call_case(call, *, source_system, region="", tz="UTC", fields=None):
    """A phone case from call facts (keys of the intake ``call`` object, raw values)."""
    norm = {
        "call_id": require(text(call.get("call_id"), "call_id", MAX_REF), "call_id"),
        "direction": choice(call.get("direction") or "inbound", "direction", DIRECTIONS),
        "status": require(choice(call.get("status"), "status", CALL_STATUSES), "status"),
        "start": timestamp(call.get("start"), "start", tz),
        "answer": timestamp(call.get("answer"), "answer", tz),
        "end": timestamp(call.get("end"), "end", tz),
        "duration": integer(call.get("duration"), "duration"),
        "billsec": integer(call.get("billsec"), "billsec"),
        "caller_number": phone(call.get("caller_number"), region, "caller_number"),
        "callee_number": phone(call.get("callee_number"), region, "callee_number"),
        "agent": text(call.get("agent"), "agent", LIMITS["agent"]),
        "recording_url": text(call.get("recording_url"), "recording_url",
                              LIMITS["recording_url"]),
    }
    norm = {k: v for k, v in norm.items() if v is not None}
    fields = dict(fields or {})
    customer_number = norm.get("caller_number" if norm["direction"] == "inbound"
                               else "callee_number")
    if not fields.get("phone"):
        fields["phone"] = customer_number
    if customer_number and not fields.get("subject"):
        word = "from" if norm["direction"] == "inbound" else "to"
        fields["subject"] = f"{norm['direction'].capitalize()} call {word} {customer_number}"
    return case_payload(fields, source_system=source_system, external_ref=norm["call_id"],
                        channel="phone", region=region, call=norm)


@contextmanager
def provider_names(names):
    """Report errors under the provider's own field names (``{"caller_number": "From"}``)."""
    try:
        yield
    except InvalidFieldError as exc:
        if exc.field in names:
            reason = exc.message.split(": ", 1)[-1]
            raise InvalidFieldError(names[exc.field], reason) from None
        raise


def pick(fields, field_map):
    """Apply a field map ``{provider_key: our_field}`` to flat provider ``fields``.

    Keys already named like ours pass through.  Unknown target names are a config error."""
    result = {}
    for key, value in fields.items():
        target = field_map.get(key) or (key if key in FORM_FIELDS else None)
        if target is None or value in (None, ""):
            continue
        if target not in FORM_FIELDS:
            raise InvalidFieldError(key, f"is mapped to unknown field {target!r}")
        if target == "description" and result.get(target):
            if isinstance(value, (dict, list)) or isinstance(result[target], (dict, list)):
                raise InvalidFieldError(key, "must be a string")
            result[target] = f"{result[target]}\n{value}"
        else:
            result.setdefault(target, value)
    return result


def flatten(data):
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": "1, 2"}``, in document order
    (iterative: the depth of JSON is bounded when parsed, never by the stack here)."""
    flat = {}
    if not isinstance(data, dict):
        return flat
    stack = [("", iter(data.items()))]
    while stack:
        prefix, items = stack[-1]
        for key, value in items:
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                stack.append((name, iter(value.items())))
                break
            if isinstance(value, list):
                flat[name] = ", ".join(str(v) for v in value if not isinstance(v, (dict, list)))
            else:
                flat[name] = value
        else:
            stack.pop()
    return flat
