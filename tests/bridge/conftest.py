import os
import uuid
from urllib.parse import quote

import pytest
from fake_odoo import FakeOdoo
from helpers import bridge_config

from webhook_bridge import create_app
from webhook_bridge.config import Config
from webhook_bridge.outbox import open_outbox


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch):
    """The runner exports ODOO_* for the end-to-end suite: these tests use their own fakes."""
    for name in list(os.environ):
        if name.startswith(("ODOO_", "BRIDGE_")) and name != "BRIDGE_TEST_PG_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def fake_odoo():
    fake = FakeOdoo().start()
    yield fake
    fake.stop()


@pytest.fixture
def config_dict(tmp_path, fake_odoo):
    return bridge_config(tmp_path, odoo=fake_odoo.config())


@pytest.fixture
def app(config_dict):
    return create_app(config_dict)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox_of(app):
    return app.extensions["bridge"]["outbox"]


# --- PostgreSQL -------------------------------------------------------------------------

def _admin_url():
    if os.environ.get("BRIDGE_TEST_PG_URL"):
        return os.environ["BRIDGE_TEST_PG_URL"]
    if not os.environ.get("PGHOST"):
        return None
    user = quote(os.environ.get("PGUSER", "postgres"))
    password = os.environ.get("PGPASSWORD")
    auth = f"{user}:{quote(password)}" if password else user
    return (f"postgresql://{auth}@{os.environ['PGHOST']}:{os.environ.get('PGPORT', '5432')}"
            f"/{os.environ.get('PGDATABASE', 'postgres')}")


def _unavailable(reason):
    if os.environ.get("COMPLAINT_REQUIRE_ALL") == "1":
        pytest.fail(f"PostgreSQL is required (COMPLAINT_REQUIRE_ALL=1): {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def pg_url():
    """A scratch database for this test session, dropped at the end."""
    try:
        import psycopg2
    except ImportError:
        _unavailable("psycopg2 is not installed")
    admin = _admin_url()
    if not admin:
        _unavailable("set BRIDGE_TEST_PG_URL or PGHOST/PGPORT/PGUSER/PGPASSWORD")
    try:
        conn = psycopg2.connect(admin, connect_timeout=5)
    except psycopg2.Error as exc:
        _unavailable(f"cannot connect: {str(exc).strip()}")
    conn.autocommit = True
    name = f"bridge_test_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    yield f"{base}/{name}"
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outbox_url(request, tmp_path):
    """Each outbox store in turn, empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/outbox.sqlite"
    url = request.getfixturevalue("pg_url")
    box = open_outbox(url)
    box.run(lambda cur: cur.execute("TRUNCATE bridge_outbox, bridge_counters RESTART IDENTITY"))
    box.close()
    return url


@pytest.fixture
def outbox(outbox_url):
    box = open_outbox(outbox_url)
    yield box
    box.close()


@pytest.fixture
def make_config(tmp_path):
    def make(**overrides):
        return Config.from_dict(bridge_config(tmp_path, **overrides))

    return make
