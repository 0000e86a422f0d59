import os

import pytest


@pytest.fixture(scope="session")
def odoo_settings():
    """settings(*names): the named settings of the Odoo under test (set by
    scripts/test). Without them the suite is skipped, or fails when every
    suite must run (COMPLAINT_REQUIRE_ALL=1, as in CI)."""

    def settings(*names):
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            message = f"no Odoo to test against: {', '.join(missing)} not set"
            if os.environ.get("COMPLAINT_REQUIRE_ALL") == "1":
                pytest.fail(message + " (COMPLAINT_REQUIRE_ALL=1)")
            pytest.skip(message)
        return {name: os.environ[name] for name in names}

    return settings
