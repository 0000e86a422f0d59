"""gunicorn settings that follow the bridge configuration, for running the WSGI app directly:

    gunicorn -c python:webhook_bridge.gunicorn_conf 'webhook_bridge.wsgi:app'

Sets ``forwarded_allow_ips`` to match ``trust_proxy`` (see :func:`cli.gunicorn_settings`).
"""

from webhook_bridge.cli import gunicorn_settings
from webhook_bridge.config import Config

globals().update(gunicorn_settings(Config.load()))
