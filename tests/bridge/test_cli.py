"""``webhook-bridge`` commands: worker --once, deadletters list|show|replay|purge, stats."""

import json

import pytest
from helpers import bridge_config

from webhook_bridge import cli
from webhook_bridge.outbox import open_outbox


@pytest.fixture
def setup(tmp_path, fake_odoo, monkeypatch):
    config = bridge_config(tmp_path, odoo=fake_odoo.config())
    path = tmp_path / "bridge.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("BRIDGE_CONFIG", str(path))
    box = open_outbox(config["outbox_url"])
    box.enqueue("telephony/generic", [
        (ref, {"channel": "phone", "source_system": "generic_phone", "external_ref": ref})
        for ref in ("good", "bad-1", "bad-2")])
    return box


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr().out
    return code, out


def test_worker_deadletters_and_stats(setup, fake_odoo, capsys):
    fake_odoo.reject_refs = {"bad-1", "bad-2"}
    assert run(capsys, "worker", "--once")[0] == 0
    assert fake_odoo.count("good") == 1

    code, out = run(capsys, "deadletters", "list")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["external_ref"] for r in rows] == ["bad-1", "bad-2"]
    assert "rejected by the fake" in rows[0]["last_error"]

    code, out = run(capsys, "deadletters", "show", str(rows[0]["id"]))
    assert code == 0 and json.loads(out)["payload"]["external_ref"] == "bad-1"
    assert run(capsys, "deadletters", "show", "999")[0] == 1

    assert run(capsys, "deadletters", "replay")[0] == 2  # needs ids or --all
    fake_odoo.reject_refs = set()
    code, out = run(capsys, "deadletters", "replay", str(rows[0]["id"]))
    assert json.loads(out) == {"replayed": 1}
    run(capsys, "worker", "--once")
    assert fake_odoo.count("bad-1") == 2  # rejected once, then accepted

    code, out = run(capsys, "deadletters", "purge", "--all")
    assert json.loads(out) == {"purged": 1}

    code, out = run(capsys, "stats")
    stats = json.loads(out)
    assert stats["states"] == {"pending": 0, "delivered": 2, "dead": 0}
    assert stats["counters"]["dead_lettered"] == 2 and stats["counters"]["delivered"] == 2


def test_bad_config_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BRIDGE_OUTBOX_URL", "mysql://nope")
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    assert cli.main(["stats"]) == 2
    assert "unsupported outbox URL" in capsys.readouterr().err


def test_config_from_env_and_toml(tmp_path):
    from webhook_bridge.config import Config

    toml = tmp_path / "bridge.toml"
    toml.write_text('default_region = "cn"\n[secrets]\ntwilio = ["from-file"]\n'
                    '[forms.wufoo]\nid_field = "EntryId"\n')
    config = Config.load(environ={"BRIDGE_SECRET_TWILIO": "a, b", "BRIDGE_SECRET_FORMS_GENERIC":
                                  "whsec_QUJD", "ODOO_URL": "http://odoo:8069",
                                  "BRIDGE_BATCH_SIZE": "7", "BRIDGE_TRUST_PROXY": "yes",
                                  "BRIDGE_WECHAT_REPLY_WITH_CASE": "Complaint {number}",
                                  "BRIDGE_WECHAT_REPLY_UNSUPPORTED": "Text only, please"},
                         path=str(toml))
    assert config.wechat == {"reply_with_case": "Complaint {number}",
                             "reply_unsupported": "Text only, please"}
    assert config.secrets_for("telephony", "twilio") == ["a", "b"]
    assert config.secrets_for("forms", "generic") == ["whsec_QUJD"]
    assert config.secrets_for("telephony", "generic") == []
    assert config.default_region == "CN" and config.batch_size == 7 and config.trust_proxy
    assert config.odoo.url == "http://odoo:8069" and config.forms["wufoo"]["id_field"]
    with pytest.raises(ValueError, match="base64"):
        Config.from_dict({"secrets": {"generic": ["whsec_!!"]}})
    with pytest.raises(ValueError, match="unknown configuration keys"):
        Config.from_dict({"colour": "blue"})
