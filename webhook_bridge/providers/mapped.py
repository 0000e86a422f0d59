"""Form providers mapped by configuration, not code.

``config.forms[<provider>]`` options (all optional):

- ``field_map``: ``{"provider field": "our field"}``; our fields are
  :data:`normalize.FORM_FIELDS`.  Names that already match ours, and a few common
  aliases (``full_name``, ``phone_number``, ``message``...), map themselves.
- ``value_map``: ``{"urgency": {"Very urgent": "urgent"}}``, applied after the field map.
- ``id_field``: the provider field holding the submission id (deduplication key).
- ``signature``: ``"standard"`` (default for custom providers), ``"typeform"`` or ``"token"``.

A custom provider posts JSON (nested keys flatten to ``a.b``) or form data.
"""

import re

from .. import normalize, signatures
from ..errors import InvalidFieldError, MalformedError
from .base import (Item, form_fields, form_files, is_json, json_body, verify_standard,
                   verify_token_or_standard)

ALIASES = {
    "full_name": "name", "fullname": "name", "your_name": "name", "customer_name": "name",
    "phone_number": "phone", "phonenumber": "phone", "mobile": "phone", "telephone": "phone",
    "e_mail": "email", "email_address": "email", "message": "description",
    "complaint": "description", "details": "description", "order": "order_ref",
    "order_number": "order_ref", "order_no": "order_ref", "title": "subject",
    "amount": "amount_claimed",
}


def _key(name):
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def map_fields(flat, options):
    """Provider fields -> our flat fields, through the configured and default maps."""
    field_map = {str(k): v for k, v in (options.get("field_map") or {}).items()}
    for key in flat:
        if key not in field_map and _key(key) in ALIASES:
            field_map[key] = ALIASES[_key(key)]
        elif key not in field_map and _key(key) in normalize.FORM_FIELDS:
            field_map[key] = _key(key)
    fields = normalize.pick(flat, field_map)
    for name, values in (options.get("value_map") or {}).items():
        if fields.get(name) in values:
            fields[name] = values[fields[name]]
    return fields


def form_case(ctx, flat, *, external_ref, source_system=None, attachments=()):
    return normalize.form_case(map_fields(flat, ctx.options),
                               source_system=source_system or ctx.options.get(
                                   "source_system", ctx.provider),
                               external_ref=external_ref, region=ctx.region,
                               attachments=attachments)


def verify(ctx):
    scheme = ctx.options.get("signature", "standard")
    if scheme == "typeform":
        signatures.verify_typeform(ctx.secrets, ctx.header("Typeform-Signature"), ctx.body)
    elif scheme == "token":
        verify_token_or_standard(ctx)
    else:
        verify_standard(ctx)


def parse(ctx):
    if is_json(ctx):
        flat = normalize.flatten(json_body(ctx))
    else:
        try:
            flat = form_fields(ctx)
        except MalformedError:
            raise MalformedError("send JSON or form data", field="Content-Type") from None
    id_field = ctx.options.get("id_field")
    if id_field:
        event_id = normalize.text(flat.get(id_field), id_field)
    else:
        event_id = ctx.header("webhook-id")
    event_id = normalize.bounded_id(event_id) if event_id else ""  # long ids: a digest
    if not event_id:
        raise InvalidFieldError(id_field or "webhook-id", "is required (submission id)")
    attachments = [normalize.file_attachment(f) for f in form_files(ctx)]
    return [Item(event_id, form_case(ctx, flat, external_ref=event_id,
                                     attachments=attachments))]
