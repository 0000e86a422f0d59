"""JotForm webhooks: multipart with ``submissionID`` and the answers as JSON in
``rawRequest`` (keys like ``q3_fullName``, compound answers as objects).  JotForm cannot
sign, so the webhook URL carries ``?token=<secret>``."""

import re

from .. import normalize
from ..errors import InvalidFieldError
from .base import Item, form_fields, load_json, verify_token_or_standard
from .mapped import form_case

verify = verify_token_or_standard


def _answer(value):
    """Compound answers: ``{"first": "Li", "last": "Lei"}`` -> ``"Li Lei"``,
    phone ``{"full": ...}``, address lines joined."""
    if isinstance(value, dict):
        if value.get("full") and not isinstance(value["full"], (dict, list)):
            return value["full"]
        return " ".join(str(v) for v in value.values() if isinstance(v, (str, int)) and v)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if isinstance(v, (str, int)))
    return value


def parse(ctx):
    fields = form_fields(ctx)
    submission = normalize.require(normalize.text(fields.get("submissionID"), "submissionID",
                                                  normalize.MAX_REF), "submissionID")
    raw = load_json(fields.get("rawRequest") or "", field="rawRequest")
    if not isinstance(raw, dict):
        raise InvalidFieldError("rawRequest", "must be a JSON object")
    field_map = ctx.options.get("field_map") or {}
    flat = {}
    for key, value in raw.items():  # "q3_fullName" is mapped as is if the map names it,
        name = key if key in field_map else re.sub(r"^q\d+_", "", key)  # else as "fullName"
        flat[name] = _answer(value)
    return [Item(submission, form_case(ctx, flat, external_ref=submission,
                                       source_system="jotform"))]
