"""Provider adapters: each turns one vendor's webhook into canonical intake payloads.

An adapter is a pair of functions of a :class:`base.Context`: ``verify(ctx)`` raises
:class:`SignatureError`; ``parse(ctx)`` returns a list of :class:`base.Item` (or raises
:class:`base.Ignored`, or a 400/422 :class:`BridgeError` naming the field).
"""

from typing import Callable, NamedTuple

from . import (aircall, asterisk, generic, helpdesk, jotform, mapped, twilio, typeform, wechat,
               yeastar)
from .base import Context, Ignored, Item  # noqa: F401


class Adapter(NamedTuple):
    verify: Callable
    parse: Callable
    # (ctx, "accepted" | "duplicate" | "ignored", cases) -> a response, for senders that
    # expect their own answer (WeChat's passive reply); None: the bridge's JSON answer.
    # ``cases``: Odoo's intake answers for the items when the adapter asks for them
    # (``reply_with_case``) and Odoo gave them in time, else None.
    respond: Callable = None
    handshake: Callable = None  # (ctx) -> a response to GET (WeChat's server-URL check)
    reply_with_case: bool = False


TELEPHONY = {
    "generic": Adapter(generic.verify, generic.parse_call),
    "twilio": Adapter(twilio.verify, twilio.parse),
    "aircall": Adapter(aircall.verify, aircall.parse),
    "asterisk": Adapter(asterisk.verify, asterisk.parse),
    "yeastar": Adapter(yeastar.verify, yeastar.parse),
}
FORMS = {
    "generic": Adapter(generic.verify, generic.parse_form),
    "typeform": Adapter(typeform.verify, typeform.parse),
    "jotform": Adapter(jotform.verify, jotform.parse),
}
MESSAGING = {
    "wechat": Adapter(wechat.verify, wechat.parse, wechat.respond, wechat.handshake,
                      reply_with_case=True),
}
HELPDESK = {
    "zendesk": Adapter(helpdesk.zendesk_verify, helpdesk.zendesk_parse),
    "freshdesk": Adapter(helpdesk.freshdesk_verify, helpdesk.freshdesk_parse),
}
MAPPED = Adapter(mapped.verify, mapped.parse)


def get(kind, provider, config):
    """The adapter for ``/webhooks/<kind>/<provider>``, or None.  Form providers named in
    ``config.forms`` but not built in are mapped by configuration."""
    if kind == "telephony":
        return TELEPHONY.get(provider)
    if kind == "forms":
        return FORMS.get(provider) or (MAPPED if provider in config.forms else None)
    if kind == "messaging":
        return MESSAGING.get(provider)
    if kind == "helpdesk":
        return HELPDESK.get(provider)
    return None


def names(config):
    return {"telephony": sorted(TELEPHONY), "forms": sorted(set(FORMS) | set(config.forms)),
            "messaging": sorted(MESSAGING), "helpdesk": sorted(HELPDESK)}
