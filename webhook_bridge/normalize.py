"""Shared helpers that turn provider values into the canonical intake payload.

Every validation failure raises :class:`InvalidFieldError` naming the field.
"""

import base64
import binascii
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from .errors import InvalidFieldError

CHANNELS = (
    "phone", "email", "letter", "fax", "web_form", "online_chat", "social_media", "walk_in",
    "consumer_association", "dealer_letter", "repair_report", "sales_report",
    "abnormal_return", "subcontractor", "staff",
)
URGENCIES = ("urgent", "important", "general")
CATEGORIES = ("product_quality", "service_attitude", "logistics", "information",
              "price_dispute", "other")
EXPECTATIONS = ("refund", "exchange", "repair", "price_reduction", "compensation",
                "apology", "other")
CALL_STATUSES = ("ringing", "in_progress", "completed", "no_answer", "busy", "failed")
DIRECTIONS = ("inbound", "outbound")
CUSTOMER_FIELDS = ("name", "phone", "email", "address")
CASE_FIELDS = ("order_ref", "subject", "description", "urgency", "category", "expectation",
               "amount_claimed")
# The flat field names a form (or a field map) can fill in.
FORM_FIELDS = CUSTOMER_FIELDS + CASE_FIELDS + ("channel", "external_ref")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 100_000


# --- scalars -------------------------------------------------------------------------------

def text(value, field, max_len=MAX_TEXT):
    """A stripped string or None; numbers are accepted and stringified."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidFieldError(field, "must be a string")
    value = str(value).strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFieldError(field, "is not valid Unicode") from None
    if len(value) > max_len:
        raise InvalidFieldError(field, f"longer than {max_len} characters")
    return value or None


def require(value, field):
    if value in (None, ""):
        raise InvalidFieldError(field, "is required")
    return value


def choice(value, field, allowed, aliases=None):
    """A code from ``allowed``, matched case-insensitively (spaces/dashes as underscores)."""
    value = text(value, field)
    if value is None:
        return None
    key = re.sub(r"[\s\-]+", "_", value.lower())
    key = (aliases or {}).get(key, key)
    if key not in allowed:
        raise InvalidFieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return key


def integer(value, field):
    if value in (None, ""):
        return None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number or abs(number) > 10**9:
        raise InvalidFieldError(field, f"{value!r} is not a number of seconds")
    return int(number)


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
            raise InvalidFieldError(field, f"{value!r} is not an amount") from None
    if number != number or number < 0 or number > 1e12:
        raise InvalidFieldError(field, f"{value!r} is not a positive amount")
    return round(number, 2)


def email(value, field="email"):
    value = text(value, field, 254)
    if value is not None and not EMAIL_RE.match(value):
        raise InvalidFieldError(field, f"{value!r} is not an e-mail address")
    return value


def phone(value, region="", field="phone"):
    """E.164 when ``phonenumbers`` can make sense of it, else the trimmed raw string."""
    value = text(value, field, 64)
    return None if value is None else _e164(value, region)


@lru_cache(maxsize=4096)
def _e164(value, region):
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
    naive ``YYYY-MM-DD HH:MM:SS`` in the PBX time zone ``tz``."""
    if value in (None, "", 0, "0"):
        return None
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
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, TypeError, OverflowError, OSError, IndexError):
        raise InvalidFieldError(field, f"{value!r} is not a date and time") from None


def _zone(name):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def attachment(item, field="attachments"):
    if not isinstance(item, dict):
        raise InvalidFieldError(field, "each attachment must be an object")
    name = require(text(item.get("name"), f"{field}.name", 255), f"{field}.name")
    data = item.get("data")
    if not isinstance(data, str):
        raise InvalidFieldError(f"{field}.data", "must be a base64 string")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFieldError(f"{field}.data", "is not valid base64") from None
    mimetype = text(item.get("mimetype"), f"{field}.mimetype", 255)
    return {"name": name, "mimetype": mimetype or "application/octet-stream", "data": data}


def file_attachment(storage):
    """A werkzeug ``FileStorage`` as an intake attachment."""
    return {
        "name": storage.filename or storage.name or "attachment",
        "mimetype": storage.mimetype or "application/octet-stream",
        "data": base64.b64encode(storage.read()).decode(),
    }


def mask_phone(value):
    """All but the last 4 digits hidden: ``+8613800001234`` -> ``***1234``."""
    if not value:
        return value
    digits = re.sub(r"\D", "", str(value))
    return "***" + digits[-4:] if digits else "***"


# --- payloads ------------------------------------------------------------------------------

def case_payload(fields, *, source_system, external_ref, channel="web_form", region="",
                 attachments=(), call=None):
    """The canonical intake payload from flat ``fields`` (names in :data:`FORM_FIELDS`)."""
    channel = choice(fields.get("channel") or channel, "channel", CHANNELS)
    external_ref = require(text(fields.get("external_ref") or external_ref, "external_ref",
                                255), "external_ref")
    customer = {
        "name": text(fields.get("name"), "name", 255),
        "phone": phone(fields.get("phone"), region),
        "email": email(fields.get("email")),
        "address": text(fields.get("address"), "address", 1000),
    }
    payload = {
        "channel": channel,
        "source_system": source_system,
        "external_ref": external_ref,
        "customer": {k: v for k, v in customer.items() if v is not None},
        "order_ref": text(fields.get("order_ref"), "order_ref", 64),
        "subject": text(fields.get("subject"), "subject", 255),
        "description": text(fields.get("description"), "description"),
        "urgency": choice(fields.get("urgency"), "urgency", URGENCIES),
        "category": choice(fields.get("category"), "category", CATEGORIES),
        "expectation": choice(fields.get("expectation"), "expectation", EXPECTATIONS,
                              {"price_cut": "price_reduction", "discount": "price_reduction"}),
        "amount_claimed": amount(fields.get("amount_claimed")),
        "attachments": [attachment(a) for a in attachments],
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
        "call_id": require(text(call.get("call_id"), "call_id", 255), "call_id"),
        "direction": choice(call.get("direction") or "inbound", "direction", DIRECTIONS),
        "status": require(choice(call.get("status"), "status", CALL_STATUSES), "status"),
        "start": timestamp(call.get("start"), "start", tz),
        "answer": timestamp(call.get("answer"), "answer", tz),
        "end": timestamp(call.get("end"), "end", tz),
        "duration": integer(call.get("duration"), "duration"),
        "billsec": integer(call.get("billsec"), "billsec"),
        "caller_number": phone(call.get("caller_number"), region, "caller_number"),
        "callee_number": phone(call.get("callee_number"), region, "callee_number"),
        "agent": text(call.get("agent"), "agent", 255),
        "recording_url": text(call.get("recording_url"), "recording_url", 2000),
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
            result[target] += "\n" + str(value)
        else:
            result.setdefault(target, value)
    return result


def flatten(data, prefix=""):
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": "1, 2"}``."""
    flat = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten(value, name))
            elif isinstance(value, list):
                flat[name] = ", ".join(str(v) for v in value if not isinstance(v, (dict, list)))
            else:
                flat[name] = value
    return flat
