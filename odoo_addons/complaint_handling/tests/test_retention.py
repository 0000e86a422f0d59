from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestRetention(ComplaintCommon):
    def test_open_and_recent_cases_cannot_be_deleted(self):
        open_case = self.create_case()
        with self.assertRaisesRegex(UserError, "retention period"):
            open_case.unlink()
        self.advance(open_case, "closed")
        with self.assertRaisesRegex(UserError, "Archive it instead"):
            open_case.unlink()
        open_case.action_archive()
        self.assertFalse(open_case.active)

    def test_deletable_after_retention(self):
        case = self.create_case()
        with freeze_time(fields.Datetime.now() - timedelta(days=400)):
            self.advance(case, "closed")
        self.assertTrue(case.exists())
        case.unlink()
        self.assertFalse(case.exists())

    def test_retention_period_is_configurable(self):
        case = self.create_case()
        with freeze_time(fields.Datetime.now() - timedelta(days=400)):
            self.advance(case, "closed")
        self.company.complaint_retention_days = 730
        with self.assertRaisesRegex(UserError, "730 days"):
            case.unlink()
