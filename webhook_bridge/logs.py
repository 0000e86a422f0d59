"""Structured JSON logs with the request id.  Never secrets, tokens or full phone numbers:
callers log masked values, and the formatter masks anything that still looks like a phone
number."""

import json
import logging
import re
import sys
import time

from flask import g, has_request_context

PHONE_RE = re.compile(r"(?<![\w.:/-])\+?\d[\d\s().-]{4,}\d(?![\w])")
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_default_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs):
    """Every record made while serving a request carries its ``request_id``."""
    record = _default_factory(*args, **kwargs)
    if has_request_context() and getattr(g, "request_id", None):
        record.request_id = g.request_id
    return record
SECRET_KEYS = re.compile(r"secret|token|password|api_key|signature|authorization", re.I)


def _mask(match):
    digits = re.sub(r"\D", "", match.group(0))
    return "***" + digits[-4:] if len(digits) >= 7 else match.group(0)


def scrub(value):
    return PHONE_RE.sub(_mask, value) if isinstance(value, str) else value


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


def setup(level="INFO"):
    logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger("webhook_bridge")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level.upper())
