"""Call recordings archived in Odoo: the bridge fetches the audio a call record points to
(with the provider's credentials, before a short-lived link lapses) and hands it to Odoo,
which stores it as an attachment of the case.

A recording travels as its own outbox item (provider ``recording/<provider>``, keyed by a
digest of the URL), separate from the call: a recording that cannot be fetched never holds
back or loses the call.  Fetching is opt-in per provider (``recordings`` in the bridge
configuration, see :class:`RecordingSource`).

Outcomes of one fetch:

- the audio, within ``max_bytes``: delivered to ``complaint.call.archive_recording``;
- the provider is briefly unavailable (HTTP 429/5xx, timeout, connection refused):
  :class:`RecordingError` with ``retry`` set, the item is retried with backoff;
- the recording is gone or refused (404/410, 401/403: deleted, expired link, wrong
  credentials), too large, or the retries are exhausted: the reason is delivered to Odoo,
  which shows it on the call and in the case's chatter.
"""

import base64
import hashlib
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

PREFIX = "recording/"
MAX_BYTES = 50 * 1024 * 1024
MAX_BYTES_CEILING = 90 * 1024 * 1024
# Where the providers we know serve recordings, and how (the operator may override).
DEFAULTS = {
    "twilio": {"auth": "basic", "hosts": ["api.twilio.com"], "url_suffix": ".mp3"},
    "aircall": {"auth": "none"},  # pre-signed, short-lived links: no credentials
}
AUTHS = ("none", "basic", "bearer")
# Query parameters that sign a link rather than name a recording (S3, CloudFront, GCS).
SIGNING_PARAMS = {"expires", "signature", "awsaccesskeyid", "key-pair-id", "policy",
                  "security-token"}
EXTENSIONS = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav",
              "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/ogg": ".ogg",
              "audio/mp4": ".m4a", "audio/webm": ".webm"}


@dataclass
class RecordingSource:
    """How to fetch one provider's recordings.

    ``auth``: ``none`` (pre-signed links), ``basic`` (``username``/``password``: Twilio's
    account SID and auth token) or ``bearer`` (``token``).  Credentials are sent only to
    ``hosts`` (a host, or ``.example.com`` for its subdomains); when ``hosts`` is set, a
    URL on any other host is refused.  ``url_suffix`` is appended to the URL (Twilio:
    ``.mp3``).  ``max_bytes`` bounds one recording; ``timeout`` (seconds) bounds one fetch.
    """

    auth: str = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    hosts: list = field(default_factory=list)
    url_suffix: str = ""
    max_bytes: int = MAX_BYTES
    timeout: float = 60.0

    @classmethod
    def from_dict(cls, provider, data):
        where = f"recordings.{provider}"
        if not isinstance(data, dict):
            raise ValueError(f"{where}: must be an object")
        merged = {**DEFAULTS.get(provider, {}), **data}
        known = set(cls.__dataclass_fields__)
        unknown = set(merged) - known
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        source = cls(**merged)
        source.max_bytes, source.timeout = int(source.max_bytes), float(source.timeout)
        if isinstance(source.hosts, str):
            source.hosts = [h.strip() for h in source.hosts.split(",") if h.strip()]
        source.hosts = [h.lower() for h in source.hosts]
        if source.auth not in AUTHS:
            raise ValueError(f"{where}.auth: {source.auth!r} is not one of {', '.join(AUTHS)}")
        if source.auth == "basic" and not (source.username and source.password):
            raise ValueError(f"{where}: auth 'basic' needs username and password "
                             f"(Twilio: the account SID and auth token)")
        if source.auth == "bearer" and not source.token:
            raise ValueError(f"{where}: auth 'bearer' needs token")
        if source.auth != "none" and not source.hosts:
            raise ValueError(f"{where}: credentials need hosts, the hosts they may be sent to")
        if source.max_bytes < 1 or source.timeout <= 0:
            raise ValueError(f"{where}: max_bytes and timeout must be positive")
        if source.max_bytes > MAX_BYTES_CEILING:
            raise ValueError(f"{where}.max_bytes: at most {MAX_BYTES_CEILING} (in base64 the "
                             f"recording must fit Odoo's 128 MB request limit)")
        return source

    def allows(self, host):
        host = (host or "").lower()
        return not self.hosts or any(
            host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def credentials(self):
        if self.auth == "basic":
            return {"auth": (self.username, self.password)}
        if self.auth == "bearer":
            return {"headers": {"Authorization": f"Bearer {self.token}"}}
        return {}


class RecordingError(Exception):
    """The recording could not be fetched; ``retry``: worth trying again later."""

    def __init__(self, reason, retry=False):
        super().__init__(reason)
        self.reason, self.retry = reason, retry


def sources(config):
    return {name.lower(): RecordingSource.from_dict(name.lower(), data)
            for name, data in (config or {}).items()}


def items_for(config, kind, provider, items):
    """The recording items to queue beside the call ``items`` of one webhook: one per call
    with an http(s) recording URL, for a provider whose recordings are fetched."""
    if kind != "telephony" or provider not in config.recording_sources:
        return []
    result = []
    for item in items:
        payload = item[1]
        call = payload.get("call") or {}
        url = call.get("recording_url")
        if not url or _scheme(url) not in ("http", "https"):
            continue  # no link to fetch: the call keeps the text as it came
        ref = recording_ref(url)
        result.append((ref, {
            "external_ref": payload.get("external_ref"),
            "recording": {"source_system": payload.get("source_system"),
                          "call_id": call.get("call_id"), "url": url, "recording_ref": ref},
        }))
    return result


def _scheme(url):
    try:
        return urlsplit(url).scheme
    except ValueError:  # not a URL at all (e.g. "http://[::1")
        return None


def recording_ref(url):
    """The idempotency key of a recording: a digest of its URL without the signing
    parameters of a pre-signed link (Aircall's S3 links are signed anew for each event of
    the same call: the same recording under another signature is the same recording)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _signing(k)]
    stable = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, urlencode(query), ""))
    return "rec-" + hashlib.sha256(stable.encode()).hexdigest()[:40]


def _signing(name):
    name = name.lower()
    return name.startswith(("x-amz-", "x-goog-")) or name in SIGNING_PARAMS


def fetch(source, url, session=None):
    """(content bytes, mimetype) of the recording at ``url``, or :class:`RecordingError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RecordingError(f"the recording URL's scheme {parts.scheme!r} is not http(s)")
    if not source.allows(parts.hostname):
        raise RecordingError(f"the recording URL's host {parts.hostname!r} is not among the "
                             f"configured hosts ({', '.join(source.hosts)})")
    full = url + source.url_suffix if source.url_suffix and not parts.query else url
    session = session or requests.Session()
    deadline = time.monotonic() + source.timeout
    slow = RecordingError(f"the provider took longer than {source.timeout:g} s to send the "
                          f"recording", retry=True)
    watchdog = None
    try:
        with session.get(full, stream=True, timeout=(min(10.0, source.timeout), source.timeout),
                         **source.credentials()) as resp:
            # a provider sending a byte now and then never hits the read timeout
            watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), resp.close)
            watchdog.daemon = True
            watchdog.start()
            _check_status(resp.status_code)
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > source.max_bytes:
                raise too_large(source, int(length))
            chunks, size = [], 0
            for chunk in resp.iter_content(65536):
                size += len(chunk)
                if size > source.max_bytes:
                    raise too_large(source)
                if time.monotonic() > deadline:
                    raise slow
                chunks.append(chunk)
            mimetype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    except RecordingError:
        raise
    except Exception as exc:  # noqa: BLE001 - what a closed or broken stream raises varies
        if isinstance(exc, requests.Timeout):
            raise RecordingError(f"the provider did not answer within {source.timeout:g} s",
                                 retry=True) from None
        if time.monotonic() >= deadline:
            raise slow from None
        if not isinstance(exc, (requests.RequestException, OSError, ValueError)):
            raise
        raise RecordingError(f"cannot reach the provider: {type(exc).__name__}",
                             retry=True) from None
    finally:
        if watchdog:
            watchdog.cancel()
    if not size:
        raise RecordingError("the provider answered with an empty recording", retry=True)
    if not mimetype.startswith("audio/"):
        mimetype = mimetypes.guess_type(parts.path + source.url_suffix)[0] or "audio/mpeg"
    return b"".join(chunks), mimetype


def _check_status(status):
    if status < 300:
        return
    if status == 429 or status >= 500:
        raise RecordingError(f"the provider is unavailable (HTTP {status})", retry=True)
    if status in (404, 410):
        raise RecordingError(f"the provider has no such recording (HTTP {status}): deleted "
                             f"at the provider, or never made")
    if status in (401, 403):
        raise RecordingError(f"the provider refused the download (HTTP {status}): the link "
                             f"expired or the credentials are wrong")
    raise RecordingError(f"the provider answered HTTP {status}")


def too_large(source, size=None):
    got = f" ({size} bytes)" if size else ""
    return RecordingError(f"the recording is larger than the limit of {source.max_bytes} "
                          f"bytes{got} (recordings max_bytes)")


def report(recording, content=None, mimetype=None, error=None):
    """The payload of ``complaint.call.archive_recording`` for one recording."""
    out = dict(recording)
    if error:
        out["error"] = error
    else:
        ext = EXTENSIONS.get(mimetype) or mimetypes.guess_extension(mimetype or "") or ""
        out.update(name=f"{recording['source_system']}-{recording['call_id']}{ext}",
                   mimetype=mimetype, data=base64.b64encode(content).decode())
    return out
