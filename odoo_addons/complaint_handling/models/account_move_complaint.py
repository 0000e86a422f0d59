from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    complaint_case_id = fields.Many2one(
        "complaint.case", string="Complaint Case", readonly=True, copy=False,
        index="btree_not_null", check_company=True,
        help="The complaint whose refund this credit note executes.",
    )
