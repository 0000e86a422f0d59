from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    complaint_approval_threshold = fields.Monetary(
        string="Complaint Approval Threshold", currency_field="currency_id", default=5000.0,
        help="Refunds, exchanges, price reductions, free repairs and compensation above this "
        "amount also need the marketing director's approval; compensation above it makes "
        "a closed case serious for the monthly reward/penalty review.",
    )
