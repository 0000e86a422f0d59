from odoo import fields, models


class HelpdeskTicketEscalateWizard(models.TransientModel):
    _name = "helpdesk.ticket.escalate.wizard"
    _description = "Escalate a Helpdesk Ticket to a Complaint"

    ticket_id = fields.Many2one("helpdesk.ticket", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Why this ticket is a complaint.")

    def action_escalate(self):
        self.ensure_one()
        self.ticket_id.action_escalate_complaint(self.reason)
        return {"type": "ir.actions.act_window_close"}
