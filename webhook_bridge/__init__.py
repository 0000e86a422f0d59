"""Webhook bridge: phone-system and web-form webhooks in, complaint cases out.

Verify, persist, answer 2xx, then deliver to Odoo's ``complaint.case.intake``.
"""


def create_app(config=None):
    """The Flask application (see :func:`webhook_bridge.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(config)


__all__ = ["create_app"]
