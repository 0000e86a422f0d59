"""External helpdesks: ``/webhooks/helpdesk/zendesk`` and ``/webhooks/helpdesk/freshdesk``.

A ticket the helpdesk sends (its trigger or automation fires, e.g. on a "complaint" tag)
becomes a case; the ticket id is the conversation (``thread_ref``), so later updates of the
same ticket (a new public comment) are added to the open case's chatter, each once: an
update's ``external_ref`` is the ticket id and the comment's id, or a digest of the
comment's text when the helpdesk sends no id (a retried or repeated update is the same
message).  The JSON bodies are the ones webhook_bridge/README.md shows (built from the
helpdesks' placeholders); Zendesk's event-subscription webhooks
(``zen:event-type:ticket.created`` / ``ticket.comment_added``) are read too.
"""

import hashlib
import re

from .. import normalize, signatures
from ..errors import InvalidFieldError
from .base import Ignored, Item, json_body

VIA = (("mail", "email"), ("email", "email"), ("phone", "phone"), ("voice", "phone"),
       ("call", "phone"), ("chat", "online_chat"), ("messag", "online_chat"),
       ("social", "social_media"), ("wechat", "social_media"), ("twitter", "social_media"),
       ("facebook", "social_media"))
TICKET_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _channel(via):
    via = str(via or "").lower()
    for word, channel in VIA:
        if word in via:
            return channel
    return "web_form"


def _obj(data, key):
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidFieldError(key, "must be an object")
    return value


def ticket_item(source, *, region, ticket_id, subject, description, comment, comment_id,
                customer, url, via, label):
    """The intake item of one ticket event (its creation or a new public comment)."""
    ticket_id = normalize.require(normalize.text(ticket_id, "ticket.id", 64), "ticket.id")
    if not TICKET_ID.match(ticket_id):
        raise InvalidFieldError("ticket.id", "is not a ticket id")
    comment = normalize.text(comment, "comment")
    description = normalize.text(description, "description")
    text = comment or description
    if not text:
        raise InvalidFieldError("description", "is required (or a public comment)")
    comment_id = normalize.text(comment_id, "comment.id", 64)
    key = comment_id or hashlib.sha256(text.encode()).hexdigest()[:24]
    url = normalize.text(url, "ticket.url", 2048)
    if url:
        text = f"{text}\n\n{label} #{ticket_id}: {url}"
    fields = dict(customer, subject=normalize.text(subject, "subject", 256), description=text)
    payload = normalize.case_payload(fields, source_system=source,
                                     external_ref=f"{ticket_id}:{key}", channel=_channel(via),
                                     region=region)
    payload["thread_ref"] = ticket_id
    return Item(payload["external_ref"], payload)


# --- Zendesk ----------------------------------------------------------------------------------

def zendesk_verify(ctx):
    h = ctx.header
    signatures.verify_zendesk(ctx.secrets, h(signatures.ZENDESK_SIGNATURE),
                              h(signatures.ZENDESK_TIMESTAMP), ctx.body,
                              tolerance=ctx.config.timestamp_tolerance)


def zendesk_parse(ctx):
    data = json_body(ctx)
    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith("zen:event-type:"):
        return [_zendesk_event(data, kind, ctx.region)]
    ticket = _obj(data, "ticket")
    requester = _obj(ticket, "requester")
    comment = ticket.get("latest_public_comment")
    comment_id = None
    if isinstance(comment, dict):
        comment, comment_id = comment.get("body"), comment.get("id")
    return [ticket_item(
        "zendesk", region=ctx.region, ticket_id=ticket.get("id"), subject=ticket.get("title") or
        ticket.get("subject"), description=ticket.get("description"), comment=comment,
        comment_id=comment_id, url=ticket.get("url"), via=ticket.get("via"),
        customer={"name": requester.get("name"), "email": requester.get("email"),
                  "phone": requester.get("phone")}, label="Zendesk ticket")]


def _zendesk_event(data, kind, region):
    """Zendesk's event-subscription webhooks (ticket events)."""
    detail = _obj(data, "detail")
    event = _obj(data, "event")
    comment, comment_id = None, None
    if kind == "zen:event-type:ticket.comment_added":
        found = _obj(event, "comment")
        if found.get("is_public") is False:
            raise Ignored("a private comment (internal note)")
        comment, comment_id = found.get("body"), found.get("id")
    elif kind != "zen:event-type:ticket.created":
        raise Ignored(f"Zendesk event {kind[:80]} carries no message")
    via = _obj(detail, "via").get("channel")
    return ticket_item("zendesk", region=region, ticket_id=detail.get("id"),
                       subject=detail.get("subject"),
                       description=detail.get("description"), comment=comment,
                       comment_id=comment_id, url=None, via=via, customer={},
                       label="Zendesk ticket")


# --- Freshdesk --------------------------------------------------------------------------------

def freshdesk_verify(ctx):
    """The secret as Freshdesk's webhook action can send it: a custom header
    (``X-Bridge-Token``), ``Authorization: Bearer``, or basic authentication (the
    password, or the user name as with an API key and password ``X``)."""
    auth = ctx.header("Authorization") or ""
    if auth[:6].lower() == "basic ":
        user, password = signatures.basic_auth(auth) or (None, None)
        given = password if password and password != "X" else user
        return signatures.verify_token(ctx.secrets, given, field="Authorization")
    token = ctx.header("X-Bridge-Token") or (auth[7:].strip() if auth[:7].lower() ==
                                              "bearer " else None)
    signatures.verify_token(ctx.secrets, token, field="X-Bridge-Token")


def freshdesk_parse(ctx):
    data = json_body(ctx)
    ticket = _obj(data, "freshdesk_webhook") if "freshdesk_webhook" in data else data
    return [ticket_item(
        "freshdesk", region=ctx.region, ticket_id=ticket.get("ticket_id"),
        subject=ticket.get("ticket_subject"),
        description=ticket.get("ticket_description"),
        comment=ticket.get("ticket_latest_public_comment"),
        comment_id=ticket.get("ticket_latest_public_comment_id"), url=ticket.get("ticket_url"),
        via=ticket.get("ticket_source"),
        customer={"name": ticket.get("ticket_contact_name"),
                  "email": ticket.get("ticket_contact_email"),
                  "phone": ticket.get("ticket_contact_phone")
                  or ticket.get("ticket_contact_mobile")},
        label="Freshdesk ticket")]
