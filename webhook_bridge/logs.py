"""Structured JSON logs with the request id.  Never secrets, tokens or full phone numbers:
callers log masked values, and the formatter masks what ``phonenumbers`` recognises as a
valid phone number (international, or national in the configured region) and nothing else:
durations, epoch timestamps and ids stay readable."""

import json
import logging
import re
import sys
import time

from flask import g, has_request_context

import phonenumbers

SEVEN_DIGITS = re.compile(r"\d(?:[\s().-]*\d){6}")  # cheap test before the real matcher
REGION = {"code": None}  # the bridge's default_region, for national numbers
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_default_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs):
    """Every record made while serving a request carries its ``request_id``."""
    record = _default_factory(*args, **kwargs)
    if has_request_context() and getattr(g, "request_id", None):
        record.request_id = g.request_id
    return record
SECRET_KEYS = re.compile(r"secret|token|password|api_key|signature|authorization", re.I)


def scrub(value):
    """``value`` with every phone number in it masked to its last 4 digits."""
    if not isinstance(value, str) or not SEVEN_DIGITS.search(value):
        return value
    out, last = [], 0
    try:
        for match in phonenumbers.PhoneNumberMatcher(value, REGION["code"] or "ZZ",
                                                     phonenumbers.Leniency.VALID):
            digits = re.sub(r"\D", "", match.raw_string)
            out += [value[last:match.start], "***" + digits[-4:]]
            last = match.end
    except Exception:  # noqa: BLE001 - a log line is never lost to the masker
        return re.sub(r"\d{7,}", lambda m: "***" + m.group(0)[-4:], value)
    return "".join(out) + value[last:]


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in STANDARD or key.startswith("_"):
                continue
            entry[key] = "[redacted]" if SECRET_KEYS.search(key) else scrub(value)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def setup(level="INFO", region=None):
    if region:
        REGION["code"] = region.upper()
    logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger("webhook_bridge")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level.upper())
