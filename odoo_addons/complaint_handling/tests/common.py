from datetime import datetime, time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user


class ComplaintCommon(TransactionCase):
    """Shared fixture: a company on a UTC 8-12/13-17 calendar in China,
    departments with heads, and one user per complaint group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company = cls.env.company
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Complaint test calendar (UTC)",
                "tz": "UTC",
                "attendance_ids": [
                    Command.create(
                        {"name": f"{day} {period}", "dayofweek": str(day), "hour_from": start,
                         "hour_to": end, "day_period": period}
                    )
                    for day in range(5)
                    for start, end, period in ((8, 12, "morning"), (13, 17, "afternoon"))
                ],
            }
        )
        cls.company.write(
            {
                "resource_calendar_id": cls.calendar.id,
                "country_id": cls.env.ref("base.cn").id,
                "complaint_overdue_working_days": 7,
                "complaint_retention_days": 365,
                "complaint_at_risk_ratio": 0.2,
            }
        )
        Department = cls.env["hr.department"]
        cls.dept_cs = Department.create({"name": "Customer Service (test)"})
        cls.dept_production = Department.create({"name": "Production (test)"})
        cls.dept_logistics = Department.create({"name": "Logistics (test)"})

        def user(login, groups, department=None, manager=None):
            record = new_test_user(cls.env, login=login, groups=groups, name=login.replace("_", " ").title())
            if department:
                cls.env["hr.employee"].create(
                    {"name": record.name, "user_id": record.id, "department_id": department.id,
                     "parent_id": manager.employee_id.id if manager else False}
                )
            return record

        G = "complaint_handling.group_complaint_"
        cls.head_production = user("head_production", f"base.group_user,{G}department_head", cls.dept_production)
        cls.head_cs = user("head_cs", f"base.group_user,{G}department_head", cls.dept_cs)
        cls.dept_production.manager_id = cls.head_production.employee_id
        cls.dept_cs.manager_id = cls.head_cs.employee_id
        cls.company.complaint_cs_department_id = cls.dept_cs
        cls.agent = user("agent", f"base.group_user,{G}user", cls.dept_production, cls.head_production)
        cls.agent_logistics = user("agent_logistics", f"base.group_user,{G}user", cls.dept_logistics)
        cls.officer = user("officer", f"base.group_user,{G}officer", cls.dept_cs, cls.head_cs)
        cls.quality = user("quality", f"base.group_user,{G}quality")
        cls.gm = user("gm", f"base.group_user,{G}gm_office")
        cls.finance = user("finance", f"base.group_user,{G}finance")
        cls.plain_user = user("plain_user", "base.group_user")
        cls.intake_bot = cls.env.ref("complaint_handling.user_complaint_intake_bot")

        cls.category_quality = cls.env.ref("complaint_handling.category_product_quality")
        cls.category_logistics = cls.env.ref("complaint_handling.category_logistics")
        cls.customer = cls.env["res.partner"].create(
            {"name": "Wang Fang", "phone": "138 0099 7766", "email": "wang.fang.test@example.cn",
             "country_id": cls.env.ref("base.cn").id}
        )

    @classmethod
    def add_public_holiday(cls, day, name="Holiday (test)"):
        """A public holiday on the test calendar: a whole-day leave of no resource."""
        return cls.env["resource.calendar.leaves"].create({
            "name": name, "calendar_id": cls.calendar.id, "resource_id": False,
            "date_from": datetime.combine(day, time.min), "date_to": datetime.combine(day, time(23, 59)),
        })

    @classmethod
    def create_case(cls, user=None, **values):
        vals = {
            "subject": "Broken kettle lid",
            "channel": "phone",
            "partner_id": cls.customer.id,
            "category_id": cls.category_quality.id,
            "kind": "appeal",
            "urgency": "general",
        }
        vals.update(values)
        env = cls.env(user=user) if user else cls.env
        return env["complaint.case"].create(vals)

    def send_acknowledgements(self):
        """What the crons do soon after: render the queued acknowledgements,
        then Odoo's mail queue sends them (which stamps the first response)."""
        self.env["complaint.case"]._cron_send_acknowledgements()
        self.env["mail.mail"].process_email_queue()

    def approve_solution(self, case):
        """Every pending approval step of the case's solution, approved by its first approver."""
        while case.approval_state == "pending":
            step = case.sudo().approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
            approver = (step.reviewer_ids - case.approval_requested_by_id)[:1]
            self.assertTrue(approver, f"nobody can approve step {step.name} of {case.name}")
            case.with_user(approver)._approval_approve("ok")
        return case

    def advance(self, case, to_state, user=None):
        """Walk `case` along the main path up to `to_state`, filling what each step needs."""
        steps = [
            ("acknowledged", "action_acknowledge", {}),
            ("investigating", "action_start_investigation",
             {"responsible_department_id": self.dept_production.id, "user_id": self.agent.id}),
            ("solution_proposed", "action_propose_solution",
             {"verdict": "company", "solution_description": "<p>Replace the kettle.</p>"}),
            ("in_execution", "action_start_execution", {}),
            ("replied", "action_mark_replied", {"reply_summary": "<p>We replaced your kettle. Sorry!</p>"}),
            ("follow_up", "action_start_follow_up", {}),
            ("closed", "action_close", {"resolution_note": "Customer satisfied."}),
        ]

        order = [s for s, _m, _v in steps]
        start = order.index(case.state) + 1 if case.state in order else 0
        for state, method, values in steps[start:order.index(to_state) + 1]:
            record = case.with_user(user) if user else case
            if values:
                record.write(values)
            if method == "action_start_execution":
                self.approve_solution(case)
                if case.customer_decision != "agreed":
                    record.action_customer_agreed()
            if method == "action_close" and not case.follow_up_outcome:
                # Closing needs the follow-up outcome: record it on the way.
                record.action_record_follow_up("satisfied", "Happy with the new kettle.")
            getattr(record, method)()
            self.assertEqual(case.state, state)
        return case

