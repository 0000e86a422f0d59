"""Typeform ``form_response`` webhooks, signed ``Typeform-Signature: sha256=<base64>``.

Answers are keyed by their field ``ref`` (or ``id`` if the map names it; hidden fields by
name), then mapped
through ``forms.typeform.field_map``.  ``event_id`` deduplicates; the response ``token`` is
the case's external reference."""

from .. import normalize, signatures
from ..errors import InvalidFieldError
from .base import Item, json_body
from .mapped import form_case


def verify(ctx):
    signatures.verify_typeform(ctx.secrets, ctx.header("Typeform-Signature"), ctx.body)


def _value(answer):
    value = answer.get(answer.get("type"))
    if isinstance(value, dict):  # choice: {"label"}, choices: {"labels": [...]}
        value = value.get("label") or ", ".join(map(str, value.get("labels") or []))
    return value


def parse(ctx):
    body = json_body(ctx)
    response = body.get("form_response")
    if not isinstance(response, dict):
        raise InvalidFieldError("form_response", "must be an object")
    answers = response.get("answers") or []
    if not isinstance(answers, list):
        raise InvalidFieldError("form_response.answers", "must be a list")
    field_map = ctx.options.get("field_map") or {}
    flat = {}
    hidden = response.get("hidden")
    if isinstance(hidden, dict):
        flat.update(hidden)
    for answer in answers:
        field = answer.get("field") if isinstance(answer, dict) else None
        if not isinstance(field, dict):
            raise InvalidFieldError("form_response.answers.field", "must be an object")
        key = field.get("id") if field.get("id") in field_map else field.get("ref")
        flat[str(key or field.get("id"))] = _value(answer)
    event_id = normalize.require(normalize.text(body.get("event_id"), "event_id"), "event_id")
    token = normalize.text(response.get("token"), "form_response.token") or event_id
    return [Item(event_id, form_case(ctx, flat, external_ref=token,
                                     source_system="typeform"))]
