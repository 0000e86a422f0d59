"""What every provider adapter shares: the request context, body parsing, verification."""

import json
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import signatures
from ..errors import InvalidFieldError, MalformedError


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


def json_body(ctx, expect=dict):
    """The body as JSON (``expect`` the top-level type, or a tuple of types)."""
    try:
        data = json.loads(ctx.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedError(f"body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, expect):
        raise MalformedError("body must be a JSON object", field="body")
    return data


def form_fields(ctx):
    """Urlencoded or multipart fields as a ``{name: value}`` dict (last value wins)."""
    if ctx.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise MalformedError(f"content type {ctx.content_type or 'none'!r} is not a form",
                             field="Content-Type")
    return {k: v for k, v in ctx.request.form.items(multi=False)}


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
             or (auth[7:].strip() if auth.lower().startswith("bearer ") else None)
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
