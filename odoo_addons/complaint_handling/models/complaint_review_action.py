from odoo import _, fields, models


class ComplaintReviewAction(models.Model):
    """An improvement action decided at a review meeting."""

    _name = "complaint.review.action"
    _description = "Complaint Improvement Action"
    _inherit = ["complaint.followup.action.mixin"]
    _followup_activity_type = "complaint_handling.mail_activity_type_review_action"
    _check_company_auto = True

    meeting_id = fields.Many2one(
        "complaint.review.meeting", required=True, ondelete="cascade", index=True, check_company=True,
    )
    company_id = fields.Many2one(related="meeting_id.company_id", store=True)
    meeting_date = fields.Datetime(related="meeting_id.date", string="Meeting Date")

    def _followup_summary(self):
        self.ensure_one()
        return _("%(meeting)s: %(action)s", meeting=self.meeting_id.name, action=self.name)

    def action_done(self):
        self._mark_done()
        return True

    def action_cancel(self):
        self._cancel_followup()
        return True
