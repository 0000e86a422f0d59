"""WSGI entry point for any server: ``gunicorn 'webhook_bridge.wsgi:app'`` (config from env)."""

from .app import create_app

app = create_app()
