"""Bridge configuration: defaults, then a JSON/TOML file (``BRIDGE_CONFIG``), then environment.

Secrets are lists (several are valid at once, for rotation).  They are looked up by
``"<kind>/<provider>"`` first (e.g. ``forms/generic``), then by ``"<provider>"``.  A secret
serves one endpoint only: a request signed for one endpoint must not be accepted by another
(:meth:`Config.check_endpoint_secrets`).
"""

import dataclasses
import functools
import json
import os
import string
import tomllib
from dataclasses import dataclass, field


@dataclass
class OdooConfig:
    url: str = ""
    db: str = ""
    login: str = ""
    api_key: str = ""
    protocol: str = "jsonrpc"  # or "xmlrpc"
    timeout: float = 30.0


@dataclass
class Config:
    outbox_url: str = "sqlite:///bridge-outbox.sqlite"
    odoo: OdooConfig = field(default_factory=OdooConfig)
    secrets: dict = field(default_factory=dict)  # name -> [secret, ...]
    default_region: str = ""  # e.g. "CN"; numbers without +country use it
    pbx_timezone: str = "UTC"  # for naive CDR timestamps (Asterisk, Yeastar)
    public_base_url: str = ""  # e.g. "https://bridge.example.com" (for Twilio signatures)
    trust_proxy: bool = False  # honour X-Forwarded-For/Proto/Host/Port/Prefix (ProxyFix)
    proxy_hops: int = 1  # how many proxies in front of the bridge set X-Forwarded-*
    forwarded_allow_ips: str = "127.0.0.1,::1"  # the proxies gunicorn trusts (trust_proxy)
    timestamp_tolerance: int = 300
    max_body_bytes: int = 10 * 1024 * 1024
    max_form_parts: int = 1000
    forms: dict = field(default_factory=dict)  # form provider -> mapping options
    recordings: dict = field(default_factory=dict)  # provider -> how to fetch its recordings
    # WeChat Official Account: app_id, encoding_aes_key (safe mode), reply, reply_with_case,
    # reply_unsupported, image_hosts, ...
    wechat: dict = field(default_factory=dict)
    # Seconds to wait for Odoo's case number when the sender's reply names it (WeChat's
    # passive reply must come within 5 s); 0: never wait, reply without it.
    reply_case_timeout: float = 3.0
    batch_size: int = 50
    max_attempts: int = 25
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    claim_lease_seconds: float = 10.0  # renewed every third of it while a batch is in flight
    probe_max_seconds: float = 2.0  # while Odoo is down: longest wait between health probes
    poll_interval: float = 1.0
    sqlite_synchronous: str = "FULL"
    log_level: str = "INFO"

    @functools.cached_property
    def recording_sources(self):
        """provider -> :class:`~.recordings.RecordingSource`, for the providers whose call
        recordings are fetched and archived in Odoo."""
        from .recordings import sources

        return sources(self.recordings)

    def secrets_for(self, kind, provider):
        for key in (f"{kind}/{provider}", provider):
            values = self.secrets.get(key)
            if values:
                return [values] if isinstance(values, str) else list(values)
        return []

    @classmethod
    def load(cls, environ=None, path=None, **overrides):
        """Build a config from defaults, the file in ``path``/``BRIDGE_CONFIG``, env, overrides."""
        environ = os.environ if environ is None else environ
        data = {}
        path = path or environ.get("BRIDGE_CONFIG")
        if path:
            data = read_file(path)
        _merge(data, from_env(environ))
        _merge(data, overrides)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        odoo = data.pop("odoo", {}) or {}
        if isinstance(odoo, dict):
            odoo = OdooConfig(**odoo)
        secrets = {k.lower(): ([v] if isinstance(v, str) else list(v))
                   for k, v in (data.pop("secrets", {}) or {}).items()}
        for name, values in secrets.items():
            for secret in values:
                if not isinstance(secret, str) or not secret.strip():
                    raise ValueError(f"secret for {name!r}: must be a non-empty string")
                if secret.startswith("whsec_"):
                    from .signatures import standard_webhook

                    try:
                        standard_webhook(secret)  # read as the reference library reads it
                    except ValueError:
                        raise ValueError(f"secret for {name!r}: a whsec_ secret must be "
                                         f"base64") from None
        cfg = cls(odoo=odoo, secrets=secrets, **data)
        for f in dataclasses.fields(cls):  # coerce env strings to the field's type
            value = getattr(cfg, f.name)
            if f.type in (int, float) and isinstance(value, str):
                setattr(cfg, f.name, f.type(value))
            elif f.type is bool and isinstance(value, str):
                setattr(cfg, f.name, value.strip().lower() in ("1", "true", "yes", "on"))
        cfg.odoo.timeout = float(cfg.odoo.timeout)
        cfg.default_region = (cfg.default_region or "").upper()
        key = (cfg.wechat or {}).get("encoding_aes_key")
        if key:
            import base64
            import binascii

            try:
                valid = len(key) == 43 and len(base64.b64decode(key + "=", validate=True)) == 32
            except (binascii.Error, ValueError):
                valid = False
            if not valid:
                raise ValueError("wechat.encoding_aes_key: must be the 43 characters of the "
                                 "Official Account's EncodingAESKey")
        for name in ("reply", "reply_with_case", "reply_unsupported"):
            value = (cfg.wechat or {}).get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"wechat.{name}: must be text, not {type(value).__name__}")
        template = (cfg.wechat or {}).get("reply_with_case")
        if template is not None and not _names_the_case_once(template):
            raise ValueError("wechat.reply_with_case: must name the case once as {number} "
                             "(and no other {...} field, conversion or format)")
        for name in ("max_body_bytes", "max_form_parts", "proxy_hops"):
            if getattr(cfg, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        cfg.recording_sources  # noqa: B018 - a bad recordings entry is refused at load
        return cfg

    def check_endpoint_secrets(self, endpoints):
        """Refuse a configuration where one secret is valid at two endpoints (``endpoints``:
        ``{"telephony": [...], "forms": [...]}``): a request signed for one would be
        replayable at the other.  A bare provider key shared by both kinds (``generic``) is
        such a case: name them ``telephony/generic`` and ``forms/generic``."""
        owner = {}
        for kind, names in endpoints.items():
            for provider in names:
                endpoint = f"{kind}/{provider}"
                for secret in self.secrets_for(kind, provider):
                    other = owner.setdefault(secret, endpoint)
                    if other != endpoint:
                        hint = ""
                        if other.split("/")[1] == provider and provider in self.secrets:
                            hint = (f" (the key {provider!r} serves both: use "
                                    f"{other!r} and {endpoint!r}, e.g. BRIDGE_SECRET_"
                                    f"{other.replace('/', '_').upper()})")
                        raise ValueError(
                            f"the same secret is configured for {other} and {endpoint}: give "
                            f"each endpoint its own secret (a request signed for one would be "
                            f"accepted by the other){hint}")


def read_file(path):
    with open(path, "rb") as fh:
        if str(path).endswith(".toml"):
            return tomllib.load(fh)
        return json.load(fh)


ENV_KEYS = {
    "BRIDGE_OUTBOX_URL": "outbox_url",
    "BRIDGE_DEFAULT_REGION": "default_region",
    "BRIDGE_PBX_TIMEZONE": "pbx_timezone",
    "BRIDGE_PUBLIC_BASE_URL": "public_base_url",
    "BRIDGE_TRUST_PROXY": "trust_proxy",
    "BRIDGE_PROXY_HOPS": "proxy_hops",
    "BRIDGE_FORWARDED_ALLOW_IPS": "forwarded_allow_ips",
    "BRIDGE_MAX_FORM_PARTS": "max_form_parts",
    "BRIDGE_TIMESTAMP_TOLERANCE": "timestamp_tolerance",
    "BRIDGE_MAX_BODY_BYTES": "max_body_bytes",
    "BRIDGE_BATCH_SIZE": "batch_size",
    "BRIDGE_MAX_ATTEMPTS": "max_attempts",
    "BRIDGE_RETRY_BASE_SECONDS": "retry_base_seconds",
    "BRIDGE_RETRY_MAX_SECONDS": "retry_max_seconds",
    "BRIDGE_CLAIM_LEASE_SECONDS": "claim_lease_seconds",
    "BRIDGE_PROBE_MAX_SECONDS": "probe_max_seconds",
    "BRIDGE_POLL_INTERVAL": "poll_interval",
    "BRIDGE_REPLY_CASE_TIMEOUT": "reply_case_timeout",
    "BRIDGE_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "BRIDGE_LOG_LEVEL": "log_level",
}
ODOO_ENV_KEYS = {
    "ODOO_URL": "url",
    "ODOO_DB": "db",
    "ODOO_INTAKE_LOGIN": "login",
    "ODOO_INTAKE_API_KEY": "api_key",
    "ODOO_PROTOCOL": "protocol",
    "ODOO_TIMEOUT": "timeout",
}
WECHAT_ENV_KEYS = {
    "BRIDGE_WECHAT_APP_ID": "app_id",
    "BRIDGE_WECHAT_ENCODING_AES_KEY": "encoding_aes_key",
    "BRIDGE_WECHAT_REPLY": "reply",
    "BRIDGE_WECHAT_REPLY_WITH_CASE": "reply_with_case",
    "BRIDGE_WECHAT_REPLY_UNSUPPORTED": "reply_unsupported",
}
SECRET_PREFIX = "BRIDGE_SECRET_"
RECORDINGS_PREFIX = "BRIDGE_RECORDINGS_"
KINDS = ("telephony", "forms", "messaging", "helpdesk")


def from_env(environ):
    """``BRIDGE_*``/``ODOO_*`` variables; ``BRIDGE_SECRET_<NAME>`` is a comma-separated list;
    ``BRIDGE_RECORDINGS_<PROVIDER>`` a JSON object (how to fetch its recordings).

    ``<NAME>`` is a provider (``TWILIO``) or kind and provider (``FORMS_GENERIC``).
    """
    data = {k: environ[e] for e, k in ENV_KEYS.items() if environ.get(e)}
    odoo = {k: environ[e] for e, k in ODOO_ENV_KEYS.items() if environ.get(e)}
    if odoo:
        data["odoo"] = odoo
    wechat = {k: environ[e] for e, k in WECHAT_ENV_KEYS.items() if environ.get(e)}
    if wechat:
        data["wechat"] = wechat
    secrets = {}
    for name, value in environ.items():
        if name.startswith(SECRET_PREFIX) and value.strip():
            key = name[len(SECRET_PREFIX):].lower()
            for kind in KINDS:
                if key.startswith(kind + "_"):
                    key = kind + "/" + key[len(kind) + 1:]
            secrets[key] = [s.strip() for s in value.split(",") if s.strip()]
    if secrets:
        data["secrets"] = secrets
    recordings = {}
    for name, value in environ.items():
        if name.startswith(RECORDINGS_PREFIX) and value.strip():
            try:
                recordings[name[len(RECORDINGS_PREFIX):].lower()] = json.loads(value)
            except ValueError:
                raise ValueError(f"{name}: must be a JSON object") from None
    if recordings:
        data["recordings"] = recordings
    return data


def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _names_the_case_once(template):
    """Whether the text ``template`` has exactly one field, ``{number}``, and formats a case
    number (a conversion or format spec that would fail at reply time is refused here)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template)
                  if name is not None]
        template.format(number="CP2026-00001")
    except (ValueError, KeyError, IndexError, AttributeError):
        return False
    return fields == ["number"]
