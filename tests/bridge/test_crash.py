"""kill -9 the real ``webhook-bridge serve`` between accepting and delivering: after a
restart the item is delivered exactly once."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import SAMPLES, bridge_config, standard_headers, wait_for

ROOT = Path(__file__).resolve().parents[2]
CALL = json.loads((SAMPLES / "telephony_generic.json").read_text())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bridge:
    """``python -m webhook_bridge.cli serve`` in its own process group."""

    def __init__(self, config_path, with_worker):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BRIDGE_CONFIG": str(config_path),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        args = [sys.executable, "-m", "webhook_bridge.cli", "serve", "--bind",
                f"127.0.0.1:{self.port}", "--workers", "1"]
        self.log = open(Path(config_path).parent / f"serve-{self.port}.log", "wb")
        self.proc = subprocess.Popen(args + (["--with-worker"] if with_worker else []),
                                     env=env, cwd=ROOT, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.kill()
        pytest.fail("the bridge did not start: " + Path(self.log.name).read_text()[-2000:])

    def post_call(self, call_id):
        body = json.dumps({**CALL, "call_id": call_id}).encode()
        return requests.post(self.url + "/webhooks/telephony/generic", data=body, timeout=5,
                             headers={**standard_headers(body, f"msg-{call_id}"),
                                      "Content-Type": "application/json"})

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()



@pytest.fixture
def config_path(tmp_path, fake_odoo):
    config = bridge_config(tmp_path, odoo=fake_odoo.config(), claim_lease_seconds=2,
                           poll_interval=0.1, log_level="INFO")
    path = tmp_path / "bridge.json"
    path.write_text(json.dumps(config))
    return path


def outbox_states(config_path):
    from webhook_bridge.outbox import open_outbox

    return open_outbox(json.loads(config_path.read_text())["outbox_url"]).stats()["states"]


def test_kill_before_delivery(config_path, fake_odoo):
    bridge = Bridge(config_path, with_worker=False)
    response = bridge.post_call("crash-1")
    assert response.status_code == 202
    bridge.kill()  # accepted, answered, never delivered
    assert fake_odoo.count("crash-1") == 0

    bridge = Bridge(config_path, with_worker=True)
    try:
        assert wait_for(lambda: fake_odoo.count("crash-1") >= 1)
        assert wait_for(lambda: outbox_states(config_path)["delivered"] == 1)
        time.sleep(0.5)  # no second delivery comes later
        assert fake_odoo.count("crash-1") == 1 and len(fake_odoo.cases) == 1
        assert bridge.post_call("crash-1").status_code == 200  # still a known duplicate
    finally:
        bridge.kill()


def test_kill_while_odoo_is_answering(config_path, fake_odoo):
    """Odoo created the case but the bridge died before recording it: the restarted bridge
    sends it again and the idempotent intake keeps one case."""
    fake_odoo.reply_delay = 3
    bridge = Bridge(config_path, with_worker=True)
    assert bridge.post_call("crash-2").status_code == 202
    assert wait_for(lambda: fake_odoo.count("crash-2") == 1)
    bridge.kill()
    assert outbox_states(config_path)["pending"] == 1
    fake_odoo.reply_delay = 0

    bridge = Bridge(config_path, with_worker=True)
    try:
        assert wait_for(lambda: outbox_states(config_path)["delivered"] == 1)
        assert len(fake_odoo.cases) == 1
        case = next(iter(fake_odoo.cases.values()))
        assert case["deliveries"] == 2  # sent twice, one case ("duplicate" the second time)
    finally:
        bridge.kill()
