from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestComplaintDashboard(ComplaintCommon):
    def test_department_counters(self):
        production, logistics = self.dept_production, self.dept_logistics
        with freeze_time("2026-09-15 09:00:00"):
            self.create_case(responsible_department_id=production.id, received_date=datetime(2026, 9, 14, 9))
        with freeze_time("2026-10-20 09:00:00"):
            # Open, assigned, general: just open.
            self.create_case(responsible_department_id=production.id, user_id=self.agent.id,
                             received_date=datetime(2026, 10, 19, 9))
            # Open, unassigned, urgent and already breached and overdue (received a month ago).
            self.create_case(responsible_department_id=production.id, urgency="urgent",
                             received_date=datetime(2026, 9, 20, 9))
            # Closed this month within its limits: counts in the month and the SLA rate only.
            done = self.create_case(responsible_department_id=production.id, user_id=self.agent.id,
                                    received_date=datetime(2026, 10, 19, 10))
            done._workflow_write({"first_response_date": datetime(2026, 10, 19, 11)})
            done._set_state("closed", close_date=datetime(2026, 10, 20, 9), resolved_date=datetime(2026, 10, 20, 9))
            self.create_case(responsible_department_id=logistics.id, user_id=self.agent_logistics.id,
                             received_date=datetime(2026, 10, 20, 8))
            # The scheduled check refreshes the time limits of the open cases.
            self.env["complaint.case"]._cron_check_sla()
            self.env.flush_all()
            departments = (production | logistics).with_user(self.officer)
            p, lg = departments
            self.assertEqual(
                (p.complaint_open_count, p.complaint_unassigned_count, p.complaint_urgent_count,
                 p.complaint_overdue_count, p.complaint_month_count, p.complaint_last_month_count),
                (3, 2, 1, 2, 2, 2),
            )
            self.assertEqual(p.complaint_sla_met_rate, 100.0, "the one case with a known result met its limits")
            self.assertEqual((lg.complaint_open_count, lg.complaint_unassigned_count, lg.complaint_month_count),
                             (1, 0, 1))
            overdue = p.with_context(complaint_filter="overdue").action_open_complaints()
            self.assertEqual(len(self.env["complaint.case"].search(overdue["domain"])), 2)
            last_month = p.with_context(complaint_filter="last_month").action_open_complaints()
            self.assertEqual(len(self.env["complaint.case"].search(last_month["domain"])), 2)
        # An agent of logistics sees only what they may see.
        self.assertEqual(production.with_user(self.agent_logistics).complaint_open_count, 0)
