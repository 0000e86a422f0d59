from odoo import fields, models


class HelpdeskTicketTeam(models.Model):
    _inherit = "helpdesk.ticket.team"

    complaint_closed_stage_id = fields.Many2one(
        "helpdesk.ticket.stage",
        string="Stage When Complaint Closed",
        help="When the complaint case escalated from a ticket of this team is closed, "
        "the ticket moves to this stage. Empty: the ticket stays where it is.",
    )
