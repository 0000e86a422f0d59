"""WeChat Official Account (公众号) server callbacks: ``/webhooks/messaging/wechat``.

- ``GET``: the server-URL check (``signature``, ``timestamp``, ``nonce``, ``echostr``):
  ``echostr`` is answered as is when the signature holds.
- ``POST``: a follower's message as XML, plain (``signature`` over token, timestamp,
  nonce: the body itself is not signed) or encrypted in safe mode (``encrypt_type=aes``:
  ``msg_signature`` over token, timestamp, nonce and ``Encrypt``; AES-256-CBC with the
  EncodingAESKey, decrypted by ``wechatpy``, which checks the AppID inside).

Text and image messages become intake items of the follower's conversation: the OpenID is
the ``thread_ref`` (one case while it is open, later messages in its chatter), the MsgId the
``external_ref``.  Every message is answered with the passive reply WeChat expects within
5 seconds: a Chinese acknowledgement (encrypted when the request was), with the case number
when Odoo answers the message's intake within ``reply_case_timeout`` seconds (the bridge
asks at once, beside storing it in the outbox; the worker's later delivery is a duplicate),
without it otherwise.  XML is parsed with ``defusedxml`` (no DTD, no entities).
"""

import base64
import re
import time
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import Response
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from .. import normalize, signatures
from ..errors import InvalidFieldError, MalformedError, SignatureError
from .base import Ignored, Item

OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The replies' defaults; each is an option (``reply``, ``reply_with_case``,
# ``reply_unsupported``), in the language of the account's followers.
DEFAULT_REPLY = "您好，我们已收到您的消息，客服人员会尽快处理并与您联系。"
# The same words for a new case, a message added to the open case and a retried message
# (WeChat retries what it got no answer for in time: the customer saw no first reply).
CASE_REPLY = "您好，我们已收到您的消息，投诉编号 {number}。客服人员会尽快处理并与您联系。"
UNSUPPORTED_REPLY = "您好，目前我们只能接收文字和图片消息，请用文字描述您的问题。"
DEFAULT_IMAGE_HOSTS = ("mmbiz.qpic.cn",)
MAX_FIELD = 64 * 1024


def options(ctx):
    return ctx.config.wechat or {}


def _args(ctx):
    return ctx.request.args


def _check_url_signature(ctx):
    """The plain ``signature`` (every callback carries it, safe mode too); returns the
    token that signed it."""
    args = _args(ctx)
    return signatures.verify_wechat(ctx.secrets, args.get("signature"), args.get("timestamp"),
                                    args.get("nonce"),
                                    tolerance=ctx.config.timestamp_tolerance)


def handshake(ctx):
    """GET: WeChat checks the server URL; the answer is ``echostr`` itself."""
    _check_url_signature(ctx)
    echo = _args(ctx).get("echostr")
    if not echo or len(echo) > 256:
        raise InvalidFieldError("echostr", "is required")
    return Response(echo, 200, content_type="text/plain; charset=utf-8")


def _xml(raw, field="body"):
    """``<xml>`` children as ``{tag: text}``; 400 naming ``field`` if not such XML."""
    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedError(f"{field} is not valid XML ({type(exc).__name__})",
                             field=field) from None
    if root.tag != "xml":
        raise MalformedError(f"{field} must be an <xml> document", field=field)
    data = {}
    for child in root:
        if len(child):
            raise InvalidFieldError(str(child.tag)[:64], "must be text")
        data.setdefault(str(child.tag), (child.text or "").strip())
    return data


def _aes(ctx):
    return _args(ctx).get("encrypt_type", "raw").lower() == "aes"


def verify(ctx):
    token = _check_url_signature(ctx)
    ctx._parsed["wechat_token"] = token
    if not _aes(ctx):
        if options(ctx).get("safe_mode_only"):
            raise SignatureError("plain-mode messages are refused (wechat.safe_mode_only): "
                                 "their body is not signed", field="encrypt_type")
        return
    encrypt = _xml(ctx.body).get("Encrypt")
    if not encrypt or len(encrypt) > ctx.config.max_body_bytes:
        raise MalformedError("safe mode: the body carries no Encrypt", field="Encrypt")
    args = _args(ctx)
    signatures.verify_wechat([token], args.get("msg_signature"), args.get("timestamp"),
                             args.get("nonce"), encrypt=encrypt, field="msg_signature",
                             tolerance=ctx.config.timestamp_tolerance)
    ctx._parsed["wechat_encrypt"] = encrypt


def _key(ctx):
    key = options(ctx).get("encoding_aes_key") or ""
    app_id = options(ctx).get("app_id") or ""
    if not key or not app_id:
        raise SignatureError("safe mode needs wechat.encoding_aes_key and wechat.app_id in "
                             "the bridge's configuration", field="encrypt_type")
    return key, app_id


def _message(ctx):
    if "wechat_message" in ctx._parsed:
        return ctx._parsed["wechat_message"]
    if _aes(ctx):
        key, app_id = _key(ctx)
        try:
            plain = PrpCrypto(base64.b64decode(key + "=")).decrypt(
                ctx._parsed["wechat_encrypt"], app_id)
        except Exception as exc:  # noqa: BLE001 - any failure of the envelope is the body's
            raise MalformedError(f"Encrypt cannot be decrypted with the configured "
                                 f"EncodingAESKey and AppID ({type(exc).__name__})",
                                 field="Encrypt") from None
        message = _xml(plain.encode("utf-8") if isinstance(plain, str) else plain, "Encrypt")
    else:
        message = _xml(ctx.body)
    ctx._parsed["wechat_message"] = message
    return message


def _field(message, name, max_len=normalize.MAX_TEXT):
    value = message.get(name)
    if value is not None and len(value) > MAX_FIELD:
        raise InvalidFieldError(name, f"longer than {MAX_FIELD} characters")
    return normalize.text(value, name, max_len)


def _image(ctx, url):
    """(attachment or None, note): the picture, fetched from WeChat's own image host while
    its link is fresh; any other host is never contacted."""
    allowed = options(ctx).get("image_hosts") or DEFAULT_IMAGE_HOSTS
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. "http://[x" (found by the fuzz suite)
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or host not in allowed:
        return None, f"图片链接 (not fetched: host not allowed): {url}"
    limit = int(options(ctx).get("image_max_bytes") or 2 * 1024 * 1024)
    try:
        with requests.get(url, timeout=float(options(ctx).get("image_timeout") or 2.0),
                          stream=True, allow_redirects=False) as answer:
            answer.raise_for_status()
            mimetype = (answer.headers.get("Content-Type") or "image/jpeg").split(";")[0]
            data = b""
            for chunk in answer.iter_content(65536):
                data += chunk
                if len(data) > limit:
                    return None, f"图片过大 (image over {limit} bytes, not archived): {url}"
    except (requests.RequestException, ValueError, UnicodeError) as exc:
        return None, f"图片无法下载 (image could not be fetched: {type(exc).__name__}): {url}"
    extension = {"image/png": "png", "image/gif": "gif"}.get(mimetype, "jpg")
    return normalize.attachment({"name": f"wechat-image.{extension}", "mimetype": mimetype,
                                 "data": base64.b64encode(data).decode()}), None


def parse(ctx):
    message = _message(ctx)
    kind = (message.get("MsgType") or "").lower()
    openid = normalize.require(_field(message, "FromUserName", 64), "FromUserName")
    if not OPENID.match(openid):
        raise InvalidFieldError("FromUserName", "is not an OpenID")
    account = normalize.require(_field(message, "ToUserName", 64), "ToUserName")
    if not OPENID.match(account):
        raise InvalidFieldError("ToUserName", "is not an account id")
    ctx._parsed["wechat_reply_to"] = (openid, account)
    if kind not in ("text", "image"):
        ctx._parsed["wechat_reply"] = (options(ctx).get("reply_unsupported", UNSUPPORTED_REPLY)
                                       if kind != "event" else None)
        raise Ignored(f"WeChat {kind or 'unknown'} message: only text and images are taken")
    msg_id = normalize.require(_field(message, "MsgId", 64), "MsgId")
    attachments, description = [], None
    if kind == "text":
        description = normalize.require(_field(message, "Content"), "Content")
    else:
        url = normalize.require(_field(message, "PicUrl", normalize.LIMITS["recording_url"]),
                                "PicUrl")
        attachment, note = _image(ctx, url)
        attachments = [attachment] if attachment else []
        description = note or "[图片] (image sent via WeChat)"
    payload = normalize.case_payload(
        {"name": f"WeChat {openid}", "description": description},
        source_system="wechat", external_ref=f"wechat-{msg_id}", channel="social_media",
        attachments=attachments)
    payload["thread_ref"] = openid
    received = normalize.timestamp(_field(message, "CreateTime", 12), "CreateTime")
    if received:
        payload["received_at"] = received
    return [Item(msg_id, payload)]


def _case_reply(ctx, cases):
    """The acknowledgement with the case number, from the intake's answer for the message."""
    answer = (cases or [None])[0]
    if not isinstance(answer, dict) or not answer.get("number"):
        return None
    if answer.get("status") not in ("created", "updated", "duplicate"):
        return None
    return options(ctx).get("reply_with_case", CASE_REPLY).format(number=answer["number"])


def respond(ctx, outcome, cases=None):
    """The passive reply: XML text, encrypted like the request; ``success`` (nothing to
    say) for events. ``cases``: Odoo's intake answers, when it gave them in time: the reply
    then names the case."""
    if outcome == "ignored" and not ctx._parsed.get("wechat_reply"):
        return Response("success", 200, content_type="text/plain; charset=utf-8")
    content = (ctx._parsed.get("wechat_reply") or _case_reply(ctx, cases)
               or options(ctx).get("reply") or DEFAULT_REPLY)
    openid, account = ctx._parsed["wechat_reply_to"]
    now = str(int(time.time()))
    xml = (f"<xml><ToUserName><![CDATA[{openid}]]></ToUserName>"
           f"<FromUserName><![CDATA[{account}]]></FromUserName>"
           f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{content.replace(']]>', ']]]]><![CDATA[>')}]]></Content></xml>")
    if _aes(ctx):
        key, app_id = _key(ctx)
        nonce = _args(ctx).get("nonce") or ""
        xml = WeChatCrypto(ctx._parsed["wechat_token"], key, app_id).encrypt_message(
            xml, nonce, now)
    return Response(xml, 200, content_type="application/xml; charset=utf-8")
