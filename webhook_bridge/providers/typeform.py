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
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if isinstance(value, dict):  # choice: {"label"}, choices: {"labels": [...]}
        labels = value.get("labels")
        value = value.get("label") or (", ".join(str(v) for v in labels
                                                 if not isinstance(v, (dict, list)))
                                       if isinstance(labels, list) else None)
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
        ref, fid = field.get("ref"), field.get("id")
        for name, value in (("form_response.answers.field.ref", ref),
                            ("form_response.answers.field.id", fid)):
            if value is not None and not isinstance(value, (str, int)) or \
                    isinstance(value, bool):
                raise InvalidFieldError(name, "must be a string")
        key = fid if fid is not None and str(fid) in field_map else ref
        flat[str(key if key is not None else fid)] = _value(answer)
    event_id = normalize.require(normalize.text(body.get("event_id"), "event_id"), "event_id")
    token = normalize.text(response.get("token"), "form_response.token") or event_id
    return [Item(event_id, form_case(ctx, flat, external_ref=token,
                                     source_system="typeform"))]
