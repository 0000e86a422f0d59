import base64

from odoo.tests import new_test_user

from odoo.addons.complaint_handling.tests.common import ComplaintCommon


class HelpdeskComplaintCommon(ComplaintCommon):
    """ComplaintCommon plus a helpdesk: a team, an agent without any
    complaint group, and a customer's ticket with an attachment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.helpdesk_agent = new_test_user(
            cls.env, login="hd_agent", name="Helpdesk Agent",
            groups="base.group_user,helpdesk_mgmt.group_helpdesk_user",
        )
        cls.helpdesk_own = new_test_user(
            cls.env, login="hd_own_tickets", name="Helpdesk Own Tickets",
            groups="base.group_user,helpdesk_mgmt.group_helpdesk_user_own",
        )
        cls.stage_done = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        cls.team = cls.env["helpdesk.ticket.team"].create({
            "name": "Front line (test)",
            "user_ids": [(4, cls.helpdesk_agent.id)],
            "complaint_closed_stage_id": cls.stage_done.id,
        })
        cls.hd_customer = cls.env["res.partner"].create({
            "name": "Li Na", "email": "li.na@example.cn", "phone": "+86 138 0013 9000",
        })
        cls.ticket = cls.create_ticket()

    @classmethod
    def create_ticket(cls, **values):
        vals = {
            "name": "Kettle leaks after two days",
            "description": "<p>The kettle <b>leaks</b> from the base.</p>",
            "partner_id": cls.hd_customer.id,
            "team_id": cls.team.id,
            "user_id": cls.helpdesk_agent.id,
            "channel_id": cls.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_phone").id,
        }
        vals.update(values)
        ticket = cls.env["helpdesk.ticket"].create(vals)
        cls.env["ir.attachment"].create({
            "name": "leak.jpg", "mimetype": "image/jpeg", "datas": base64.b64encode(b"\xff\xd8 photo"),
            "res_model": "helpdesk.ticket", "res_id": ticket.id,
        })
        return ticket

    def escalate(self, ticket=None, user=None, reason="Customer asks for a refund, says it is a complaint."):
        ticket = ticket or self.ticket
        wizard = self.env["helpdesk.ticket.escalate.wizard"].with_user(user or self.helpdesk_agent).create(
            {"ticket_id": ticket.id, "reason": reason}
        )
        wizard.action_escalate()
        return ticket.sudo().complaint_case_id

    def make_ready(self, case):
        """What an officer fills in before walking the case."""
        case.sudo().write({"category_id": self.category_quality.id, "kind": "appeal"})
