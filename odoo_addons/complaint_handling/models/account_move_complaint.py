from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..tools import in_workflow_step, workflow_step

CASE_LINK = "complaint_case_id"


class AccountMove(models.Model):
    _inherit = "account.move"

    complaint_case_id = fields.Many2one(
        "complaint.case", string="Complaint Case", readonly=True, copy=False,
        index="btree_not_null", check_company=True,
        help="The complaint whose refund this credit note executes.",
    )

    @api.model
    def _complaint_refund_step(self):
        """The scope in which a refund's credit note is linked to its case."""
        return workflow_step(self._name)

    def _check_complaint_case_link(self, field_names):
        """Only a refund's execution links a credit note to a case."""
        if CASE_LINK in field_names and not in_workflow_step(self._name):
            raise AccessError(
                _("'%s' (Complaint Case) of a journal entry is set only when a complaint's refund is "
                  "executed.", CASE_LINK)
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_complaint_case_link(set().union(*vals_list))
        return super().create(vals_list)

    def write(self, vals):
        self._check_complaint_case_link(vals)
        return super().write(vals)
