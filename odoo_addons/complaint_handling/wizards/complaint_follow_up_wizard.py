from odoo import fields, models

FOLLOW_UP_RESULTS = [
    ("satisfied", "Satisfied"),
    ("unsatisfied", "Unsatisfied"),
    ("not_reached", "Not Reached"),
]


class ComplaintFollowUpWizard(models.TransientModel):
    """Record the follow-up call (回访) of a replied case."""

    _name = "complaint.follow.up.wizard"
    _description = "Record Complaint Follow-up"

    case_id = fields.Many2one("complaint.case", required=True, ondelete="cascade")
    result = fields.Selection(FOLLOW_UP_RESULTS, required=True, default="satisfied")
    note = fields.Text(help="Required when the customer is not satisfied: why.")

    def action_record(self):
        self.ensure_one()
        self.case_id.action_record_follow_up(self.result, self.note)
        return {"type": "ir.actions.act_window_close"}
