"""What the end-to-end suites share: JSON-RPC to the Odoo under test as one user, and a
bridge application delivering into it."""

import json

import requests

# The settings scripts/test exports for the Odoo under test.
NEEDED = ("ODOO_URL", "ODOO_DB", "ODOO_INTAKE_LOGIN", "ODOO_INTAKE_API_KEY",
          "ODOO_ADMIN_LOGIN", "ODOO_ADMIN_PASSWORD")


class Rpc:
    """``execute_kw`` over JSON-RPC as one user (a password or an API key):
    ``rpc(model, method, *args, **kwargs)``."""

    def __init__(self, env, login, password):
        self.url, self.db = env["ODOO_URL"].rstrip("/") + "/jsonrpc", env["ODOO_DB"]
        self.password = password
        self.uid = self.call("common", "authenticate", self.db, login, password, {})
        assert self.uid, f"{login} could not log in"

    @classmethod
    def admin(cls, env):
        """The administrator, to set up and check."""
        return cls(env, env["ODOO_ADMIN_LOGIN"], env["ODOO_ADMIN_PASSWORD"])

    def call(self, service, method, *args):
        response = requests.post(self.url, timeout=60, json={
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": service, "method": method, "args": list(args)}})
        response.raise_for_status()
        answer = response.json()
        assert not answer.get("error"), json.dumps(answer["error"], indent=1)[:3000]
        return answer.get("result")  # absent when the method returns None

    def __call__(self, model, method, *args, **kwargs):
        return self.call("object", "execute_kw", self.db, self.uid, self.password, model,
                         method, list(args), kwargs)


def bridge_app(env, tmp_path, **config):
    """The bridge (its SQLite outbox in ``tmp_path``) delivering into the Odoo under test as
    the intake bot; ``app.deliver()`` drains the outbox at once, ``app.outbox`` is it."""
    from webhook_bridge import create_app
    from webhook_bridge.delivery import OdooClient, Worker

    app = create_app({
        "outbox_url": f"sqlite:///{tmp_path}/outbox.sqlite",
        "odoo": {"url": env["ODOO_URL"], "db": env["ODOO_DB"], "login": env["ODOO_INTAKE_LOGIN"],
                 "api_key": env["ODOO_INTAKE_API_KEY"], "timeout": 60},
        "default_region": "CN", "retry_base_seconds": 0.0, **config,
    })
    state = app.extensions["bridge"]
    app.deliver = Worker(state.outbox, OdooClient(state.config.odoo), state.config).drain
    app.outbox = state.outbox
    return app
