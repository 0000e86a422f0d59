from odoo import _, fields, models
from odoo.exceptions import UserError


class ComplaintApprovalCommentWizard(models.TransientModel):
    """Approve or reject the pending approval step of documents, with a
    comment logged in their chatter."""

    _name = "complaint.approval.comment.wizard"
    _description = "Approve or Reject"

    res_model = fields.Char(string="Document Model", required=True)
    res_ids = fields.Char(string="Documents", required=True)
    decision = fields.Selection([("approve", "Approve"), ("reject", "Reject")], required=True)
    comment = fields.Text()

    def action_confirm(self):
        self.ensure_one()
        if self.res_model not in self.env or not isinstance(
            self.env[self.res_model], self.pool["complaint.approval.mixin"]
        ):
            raise UserError(_("This document has no approval."))
        ids = [int(i) for i in self.res_ids.split(",") if i.strip().isdigit()]
        records = self.env[self.res_model].browse(ids).exists()
        if not records:
            raise UserError(_("This document has no approval."))
        if self.decision == "approve":
            records._approval_approve(self.comment)
        else:
            records._approval_reject(self.comment)
        return {"type": "ir.actions.act_window_close"}
