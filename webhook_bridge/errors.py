"""Errors that become JSON HTTP answers."""


class BridgeError(Exception):
    """An error answered to the caller as ``{"error": code, "message": ..., "field": ...}``."""

    status = 400
    code = "bad_request"

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self):
        body = {"error": self.code, "message": _cut(self.message, 500)}
        if self.field:
            body["field"] = _cut(self.field, 200)
        return body


def _cut(value, size):
    """An attacker's field name or value never makes an answer long."""
    value = str(value)
    return value if len(value) <= size else value[:size] + "..."


class SignatureError(BridgeError):
    status = 401
    code = "invalid_signature"


class MalformedError(BridgeError):
    """The body cannot be parsed at all (bad JSON, bad CSV, wrong content type)."""

    status = 400
    code = "malformed_payload"


class InvalidFieldError(BridgeError):
    """The body parses but a field is missing or has a bad value."""

    status = 422
    code = "invalid_field"

    def __init__(self, field, reason):
        super().__init__(f"{field}: {reason}", field=field)


class UnknownProviderError(BridgeError):
    status = 404
    code = "unknown_provider"


class PayloadTooLargeError(BridgeError):
    """The body (or a part of a form) is over a limit; nothing of it is stored."""

    status = 413
    code = "payload_too_large"


class UnavailableError(BridgeError):
    """The outbox cannot take the item now: the sender should retry."""

    status = 503
    code = "unavailable"
