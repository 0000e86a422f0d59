from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Intake matches customers on these exact values: index them so that
    # matching stays an index look-up however many contacts there are.
    phone_sanitized = fields.Char(index="btree_not_null")
    email_normalized = fields.Char(index="btree_not_null")

