from odoo import fields, models

from odoo.addons.complaint_handling.models.complaint_case import CHANNELS


class HelpdeskTicketChannel(models.Model):
    _inherit = "helpdesk.ticket.channel"

    complaint_channel = fields.Selection(
        CHANNELS,
        string="Complaint Channel",
        help="The complaint case's channel when a ticket of this channel is escalated "
        "(Web Form when empty).",
    )
