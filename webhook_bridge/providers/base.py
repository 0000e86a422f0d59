"""What every provider adapter shares: the request context, body parsing, verification."""

import io
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from .. import signatures
from ..errors import InvalidFieldError, MalformedError, PayloadTooLargeError

MAX_JSON_DEPTH = 32  # deeper JSON is refused (400) before any code walks it
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Item(NamedTuple):
    """One outbox item: ``event_id`` deduplicates (per provider), ``payload`` goes to intake."""

    event_id: str
    payload: dict


class Ignored(Exception):
    """A well-formed, verified event that carries nothing for us (answered 200)."""


@dataclass
class Context:
    config: object  # webhook_bridge.config.Config
    kind: str  # "telephony" or "forms"
    provider: str
    request: object  # flask.Request
    body: bytes
    public_url_of: object  # () -> the URL the provider called (computed when needed)
    options: dict = field(default_factory=dict)  # per-provider options from config["forms"]
    _parsed: dict = field(default_factory=dict)  # body parsed once (JSON, form)

    @property
    def public_url(self):
        return self.public_url_of()

    @property
    def secrets(self):
        return self.config.secrets_for(self.kind, self.provider)

    @property
    def region(self):
        return self.config.default_region

    @property
    def tz(self):
        return self.config.pbx_timezone

    @property
    def content_type(self):
        return (self.request.mimetype or "").lower()

    def header(self, name):
        return self.request.headers.get(name)

    def form(self):
        """(fields, files) parsed from exactly the body received (a MultiDict each)."""
        if "form" not in self._parsed:
            self._parsed["form"] = parse_form(self.body, self.content_type,
                                              self.request.mimetype_params,
                                              self.config.max_body_bytes,
                                              self.config.max_form_parts)
        return self._parsed["form"]


def load_json(raw, field="body"):
    """JSON text or bytes -> value; 400 naming ``field`` if invalid or nested deeper than
    :data:`MAX_JSON_DEPTH` (never a RecursionError)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise MalformedError(f"{field} is nested more than {MAX_JSON_DEPTH} levels deep",
                             field=field) from None
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        reason = str(exc)[:200]
        raise MalformedError(f"{field} is not valid JSON: {reason}", field=field) from None
    check_depth(data, field)
    return data


def check_depth(data, field="body"):
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise MalformedError(f"{field} is nested more than {MAX_JSON_DEPTH} levels "
                                     f"deep", field=field)
            values = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in values if isinstance(v, (dict, list)))


def json_body(ctx, expect=dict):
    """The body as JSON (``expect`` the top-level type, or a tuple of types)."""
    if "json" not in ctx._parsed:
        ctx._parsed["json"] = load_json(ctx.body)
    data = ctx._parsed["json"]
    if not isinstance(data, expect):
        raise MalformedError("body must be a JSON object", field="body")
    return data


def parse_form(body, mimetype, options, max_bytes, max_parts):
    """Urlencoded or multipart ``body`` -> (fields, files); 413 naming the limit."""
    parser = FormDataParser(max_form_memory_size=max_bytes, max_form_parts=max_parts)
    try:
        _, fields, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    except RequestEntityTooLarge:
        boundary = (options.get("boundary") or "").encode("latin-1", "replace")
        if boundary and body.count(b"--" + boundary) - 1 > max_parts:
            reason = f"the form has more than {max_parts} parts"
        else:
            reason = f"a form field is larger than {max_bytes} bytes"
        raise PayloadTooLargeError(reason, field="body") from None
    return fields, files


def form_fields(ctx):
    """Urlencoded or multipart fields as a ``{name: value}`` dict (first value wins)."""
    if ctx.content_type not in FORM_TYPES:
        raise MalformedError(f"content type {ctx.content_type or 'none'!r} is not a form",
                             field="Content-Type")
    fields, _ = ctx.form()
    return fields.to_dict()


def form_files(ctx):
    """The files of a multipart form (``FileStorage`` objects with a file name)."""
    if ctx.content_type != "multipart/form-data":
        return []
    _, files = ctx.form()
    return [f for f in files.values() if f.filename]


def is_json(ctx):
    return ctx.content_type == "application/json" or ctx.content_type.endswith("+json")


def verify_standard(ctx):
    h = ctx.header
    signatures.verify_standard(ctx.secrets, h("webhook-id"), h("webhook-timestamp"),
                               h("webhook-signature"), ctx.body,
                               tolerance=ctx.config.timestamp_tolerance)


def verify_token_or_standard(ctx):
    """For senders we script ourselves (PBX hooks, form tools without signing): Standard
    Webhooks headers if present, else a shared token in ``X-Bridge-Token``,
    ``Authorization: Bearer`` or the ``token`` query parameter."""
    if ctx.header("webhook-signature"):
        return verify_standard(ctx)
    auth = ctx.header("Authorization") or ""
    token = (ctx.header("X-Bridge-Token")
             or (auth[7:].strip() if auth[:7].lower() == "bearer " else None)
             or ctx.request.args.get("token"))
    signatures.verify_token(ctx.secrets, token, field="token")


def scalars(data):
    """A flat event (Twilio JSON, Yeastar): every value must be a string, number or null."""
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            raise InvalidFieldError(str(key), "must be a string or a number")
    return data


def first(mapping, *keys):
    """The first non-empty value among ``keys``."""
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None
