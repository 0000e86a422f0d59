"""Webhook signature schemes.  Pure functions: bytes and strings in, ``SignatureError`` out.

Every scheme accepts several secrets (key rotation) and compares in constant time.
"""

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .errors import SignatureError

DEFAULT_TOLERANCE = 300


def _require_secrets(secrets):
    if not secrets:
        raise SignatureError("no secret is configured for this provider")


def _matches(expected, candidates):
    """True if any candidate equals any expected value (every comparison is constant-time)."""
    found = False
    for exp in expected:
        for cand in candidates:
            found |= hmac.compare_digest(exp, cand)
    return found


# --- Standard Webhooks v1 (https://www.standardwebhooks.com) ------------------------------

def standard_secret_key(secret):
    """``whsec_<base64>`` -> key bytes.  A secret without the prefix is used as raw UTF-8."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a whsec_ secret must be base64") from None
    return secret.encode()


def standard_sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) for ``msg_id`` at ``timestamp``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


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
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer",
                             field="webhook-timestamp") from None
    now = int(time.time() if now is None else now)
    if abs(now - ts) > tolerance:
        raise SignatureError(f"webhook-timestamp is more than {tolerance} s away from now",
                             field="webhook-timestamp")
    given = [part.encode() for part in signature_header.split()
             if part.startswith("v1,")]
    expected = [standard_sign(s, msg_id, ts, body).encode() for s in secrets]
    if not _matches(expected, given):
        raise SignatureError("webhook-signature does not match", field="webhook-signature")


# --- Twilio (X-Twilio-Signature) ----------------------------------------------------------

def twilio_sign(auth_token, url, params=()):
    """Base64 HMAC-SHA1 of the URL followed by each ``key + value``, sorted by key."""
    data = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url):
    """Twilio may sign the URL with or without the default port: accept both."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if parts.port is None and default:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif parts.port == default:
        host = parts.netloc.rsplit(":", 1)[0]
        variants.append(urlunsplit(parts._replace(netloc=host)))
    return variants


def verify_twilio(auth_tokens, url, signature, params=(), body=None):
    """Form callbacks sign URL + sorted params; JSON bodies sign the URL whose
    ``bodySHA256`` query parameter must be the hex SHA-256 of the body."""
    _require_secrets(auth_tokens)
    if not signature:
        raise SignatureError("missing X-Twilio-Signature header", field="X-Twilio-Signature")
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if "bodySHA256" in query:
        actual = hashlib.sha256(body or b"").hexdigest()
        if not hmac.compare_digest(actual.encode(), query["bodySHA256"].encode()):
            raise SignatureError("bodySHA256 does not match the body", field="bodySHA256")
        params = ()
    expected = [twilio_sign(t, u, params).encode()
                for t in auth_tokens for u in _port_variants(url)]
    if not _matches(expected, [signature.encode()]):
        raise SignatureError("X-Twilio-Signature does not match", field="X-Twilio-Signature")


# --- Typeform (Typeform-Signature: sha256=<base64>) ---------------------------------------

def typeform_sign(secret, body):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify_typeform(secrets, signature, body):
    _require_secrets(secrets)
    if not signature:
        raise SignatureError("missing Typeform-Signature header", field="Typeform-Signature")
    expected = [typeform_sign(s, body).encode() for s in secrets]
    if not _matches(expected, [signature.strip().encode()]):
        raise SignatureError("Typeform-Signature does not match", field="Typeform-Signature")


# --- Shared tokens (Aircall's body token, URL/header tokens) -------------------------------

def verify_token(tokens, given, field="token"):
    _require_secrets(tokens)
    if not given or not isinstance(given, str):
        raise SignatureError(f"missing {field}", field=field)
    if not _matches([t.encode() for t in tokens], [given.encode()]):
        raise SignatureError(f"{field} does not match", field=field)
