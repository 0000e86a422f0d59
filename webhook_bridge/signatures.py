"""Webhook signature schemes.  Bytes and strings in, ``SignatureError`` out.

Where the vendor publishes an official library for its scheme, the library does the work:
Standard Webhooks (``standardwebhooks``: secret decoding and signing) and Twilio
(``twilio.request_validator``: SHA-1 and HMAC-SHA256, repeated parameters, URL port
variants).  Every scheme accepts several secrets (key rotation); comparisons are
constant-time.  Nothing here parses a request body: verification works on raw bytes and on
parameters the caller parsed losslessly.
"""

import base64
import binascii
import hashlib
import hmac
import time
from functools import lru_cache
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse, urlsplit

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from wechatpy.utils import WeChatSigner
from twilio.request_validator import (HMAC_SHA1, RequestValidator, add_port,
                                      get_signature_algorithm, remove_port)

from .errors import SignatureError

DEFAULT_TOLERANCE = 300
MAX_SIGNATURE_HEADER = 4096  # a header carrying many rotated signatures is still short


def _require_secrets(secrets):
    if not secrets:
        raise SignatureError("no secret is configured for this provider")


def _bytes(value):
    """A header or token as bytes for a constant-time comparison (never raises)."""
    return value.encode("utf-8", "surrogatepass")


def _matches(expected, candidates):
    """True if any candidate equals any expected value (every comparison is constant-time)."""
    found = False
    for exp in expected:
        for cand in candidates:
            found |= hmac.compare_digest(exp, cand)
    return found


# --- Standard Webhooks v1 (https://www.standardwebhooks.com) ------------------------------

@lru_cache(maxsize=256)
def standard_webhook(secret):
    """The reference library's reading of a secret: ``whsec_<base64>`` or bare base64,
    padded or not.  Raises ValueError for a secret the library cannot use."""
    try:
        return Webhook(secret)
    except (EmptyWebhookSecretError, ValueError, TypeError, RuntimeError) as exc:
        raise ValueError(f"not a Standard Webhooks secret (base64, optionally whsec_): "
                         f"{type(exc).__name__}") from None


def standard_secret_key(secret):
    """The HMAC key bytes of a Standard Webhooks secret, as the reference library reads it."""
    return standard_webhook(secret)._whsecret


def standard_sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) for ``msg_id`` at ``timestamp``."""
    moment = datetime.fromtimestamp(int(timestamp), timezone.utc)
    return standard_webhook(secret).sign(msg_id, moment, body)


def verify_standard(secrets, msg_id, timestamp, signature_header, body,
                    tolerance=DEFAULT_TOLERANCE, now=None):
    """Check ``webhook-id``/``webhook-timestamp``/``webhook-signature`` headers."""
    _require_secrets(secrets)
    if not msg_id:
        raise SignatureError("missing webhook-id header", field="webhook-id")
    if not timestamp:
        raise SignatureError("missing webhook-timestamp header", field="webhook-timestamp")
    if not signature_header:
        raise SignatureError("missing webhook-signature header", field="webhook-signature")
    if len(signature_header) > MAX_SIGNATURE_HEADER:
        raise SignatureError("webhook-signature is too long", field="webhook-signature")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("webhook-timestamp is not an integer", field="webhook-timestamp")
    ts = int(timestamp)
    now = int(time.time() if now is None else now)
    if abs(now - ts) > tolerance:
        raise SignatureError(f"webhook-timestamp is more than {tolerance} s away from now",
                             field="webhook-timestamp")
    given = [_bytes(part) for part in signature_header.split() if part.startswith("v1,")]
    expected = []
    for secret in secrets:
        try:
            expected.append(_bytes(standard_sign(secret, msg_id, ts, body)))
        except ValueError:  # refused at load time; never here
            continue
    if not _matches(expected, given):
        raise SignatureError("webhook-signature does not match", field="webhook-signature")


# --- Twilio (X-Twilio-Signature) ----------------------------------------------------------

def twilio_sign(auth_token, url, params=(), algorithm=HMAC_SHA1):
    """What Twilio sends: base64 HMAC of the URL followed by each ``key + value`` sorted
    (computed by the official ``twilio`` library)."""
    multi = {}
    for key, value in params:
        multi.setdefault(key, []).append(value)
    return RequestValidator(auth_token).compute_signature(url, _MultiParams(multi), algorithm)


class _MultiParams(dict):
    """``{name: [values]}`` read by the twilio library through ``getlist``."""

    def getlist(self, name):
        return self[name]


def verify_twilio(auth_tokens, url, signature, params=None, body=None, settings=None):
    """Form callbacks sign URL + sorted params (``params``: (name, value) pairs, repeats
    kept); JSON callbacks sign the URL, whose ``bodySHA256`` query parameter must be the hex
    SHA-256 of the body (``body``; ``params`` None).  A JSON body without ``bodySHA256`` is
    refused: the signature would not cover it.  ``settings``: the
    ``X-Twilio-Webhooks-Signature-Settings`` header (HMAC-SHA256 with a shared key)."""
    _require_secrets(auth_tokens)
    if not signature:
        raise SignatureError("missing X-Twilio-Signature header", field="X-Twilio-Signature")
    algorithm = get_signature_algorithm(settings)
    if algorithm.upper() not in ("HMAC_SHA1", "HMAC_SHA256"):
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}",
                             field="X-Twilio-Webhooks-Signature-Settings")
    if params is None:
        query = parse_qs(urlsplit(url).query)
        if "bodySHA256" not in query:
            raise SignatureError("a JSON callback must be signed through the bodySHA256 query "
                                 "parameter", field="bodySHA256")
        actual = hashlib.sha256(body or b"").hexdigest()
        if not _matches([actual.encode()], [_bytes(v) for v in query["bodySHA256"][:1]]):
            raise SignatureError("bodySHA256 does not match the body", field="bodySHA256")
        multi = _MultiParams()
    else:
        multi = _MultiParams()
        for key, value in params:
            multi.setdefault(key, []).append(value)
    found = False
    for token in auth_tokens:
        validator = RequestValidator(token)
        for variant in _port_variants(url):
            expected = validator.compute_signature(variant, multi, algorithm)
            found |= hmac.compare_digest(_bytes(expected), _bytes(signature))
    if not found:
        raise SignatureError("X-Twilio-Signature does not match", field="X-Twilio-Signature")


def _port_variants(url):
    """Twilio may sign the URL with or without the default port (as the library checks)."""
    parsed = urlparse(url)
    try:
        return {remove_port(parsed), add_port(parsed)}
    except ValueError:  # a port that is not a number: only the URL as received
        return {url}


# --- Typeform (Typeform-Signature: sha256=<base64>) ---------------------------------------

def typeform_sign(secret, body):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify_typeform(secrets, signature, body):
    _require_secrets(secrets)
    if not signature:
        raise SignatureError("missing Typeform-Signature header", field="Typeform-Signature")
    expected = [typeform_sign(s, body).encode() for s in secrets]
    if not _matches(expected, [_bytes(signature.strip())]):
        raise SignatureError("Typeform-Signature does not match", field="Typeform-Signature")


# --- Shared tokens (Aircall's body token, URL/header tokens) -------------------------------

def verify_token(tokens, given, field="token"):
    _require_secrets(tokens)
    if not given or not isinstance(given, str):
        raise SignatureError(f"missing {field}", field=field)
    if not _matches([_bytes(t) for t in tokens], [_bytes(given)]):
        raise SignatureError(f"{field} does not match", field=field)


# --- WeChat Official Account (signature / msg_signature query parameters) -----------------

def _timestamp_within(timestamp, tolerance, now, field):
    if not timestamp:
        raise SignatureError(f"missing {field}", field=field)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError(f"{field} is not an integer", field=field)
    now = int(time.time() if now is None else now)
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureError(f"{field} is more than {tolerance} s away from now", field=field)


def wechat_sign(token, timestamp, nonce, encrypt=None):
    """WeChat's signature: SHA-1 of the sorted, concatenated token, timestamp, nonce (and,
    in safe mode, the ``Encrypt`` value: ``msg_signature``), computed by ``wechatpy``."""
    signer = WeChatSigner()
    signer.add_data(*(part for part in (token, timestamp, nonce, encrypt) if part is not None))
    return signer.signature


def verify_wechat(tokens, signature, timestamp, nonce, encrypt=None, field="signature",
                  tolerance=DEFAULT_TOLERANCE, now=None):
    """Check a WeChat callback's ``signature`` (or ``msg_signature`` over ``encrypt``); the
    token that signed it is returned (the reply is encrypted with it)."""
    _require_secrets(tokens)
    if not signature or len(signature) > MAX_SIGNATURE_HEADER:
        raise SignatureError(f"missing {field}", field=field)
    if nonce is None or len(nonce) > 256:
        raise SignatureError("missing nonce", field="nonce")
    _timestamp_within(timestamp, tolerance, now, "timestamp")
    found = None
    for token in tokens:
        expected = wechat_sign(token, timestamp, nonce, encrypt)
        if hmac.compare_digest(_bytes(expected), _bytes(signature)) and found is None:
            found = token
    if found is None:
        raise SignatureError(f"{field} does not match", field=field)
    return found


# --- Zendesk (X-Zendesk-Webhook-Signature) -------------------------------------------------

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"


def zendesk_sign(secret, timestamp, body):
    """base64 of the HMAC-SHA256, keyed by the webhook's signing secret, of the timestamp
    header followed by the raw body (Zendesk's documented scheme)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_zendesk(secrets, signature, timestamp, body, tolerance=DEFAULT_TOLERANCE, now=None):
    _require_secrets(secrets)
    if not signature or len(signature) > MAX_SIGNATURE_HEADER:
        raise SignatureError(f"missing {ZENDESK_SIGNATURE} header", field=ZENDESK_SIGNATURE)
    if not timestamp or len(timestamp) > 64:
        raise SignatureError(f"missing {ZENDESK_TIMESTAMP} header", field=ZENDESK_TIMESTAMP)
    try:  # ISO-8601, e.g. 2024-05-14T08:30:00Z
        moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        skew = abs((time.time() if now is None else now) - moment.timestamp())
    except (ValueError, OverflowError, OSError):
        raise SignatureError(f"{ZENDESK_TIMESTAMP} is not an ISO-8601 date-time",
                             field=ZENDESK_TIMESTAMP) from None
    if skew > tolerance:
        raise SignatureError(f"{ZENDESK_TIMESTAMP} is more than {tolerance} s away from now",
                             field=ZENDESK_TIMESTAMP)
    expected = [zendesk_sign(s, timestamp, body).encode() for s in secrets]
    if not _matches(expected, [_bytes(signature.strip())]):
        raise SignatureError(f"{ZENDESK_SIGNATURE} does not match", field=ZENDESK_SIGNATURE)


# --- HTTP basic authentication (Freshdesk automation webhooks) ------------------------------

def basic_auth(header):
    """(user, password) of an ``Authorization: Basic`` header, or None if it is not one."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    user, _, password = decoded.partition(":")
    return user, password
