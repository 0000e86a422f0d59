from odoo import _, _lt, fields, models

from ..tools import Transition

GROUP_OFFICER = "complaint_handling.group_complaint_officer"


class ComplaintReviewAction(models.Model):
    """An improvement action decided at a review meeting."""

    _name = "complaint.review.action"
    _description = "Complaint Improvement Action"
    _inherit = ["complaint.followup.action.mixin"]
    _followup_activity_type = "complaint_handling.mail_activity_type_review_action"
    _transitions = {
        "action_done": Transition(_lt("mark done"), ("todo",), party="_is_owner_or_officer"),
        "action_cancel": Transition(_lt("cancel"), ("todo",), (GROUP_OFFICER,)),
    }
    _check_company_auto = True

    meeting_id = fields.Many2one(
        "complaint.review.meeting", required=True, ondelete="cascade", index=True, check_company=True,
    )
    company_id = fields.Many2one(related="meeting_id.company_id", store=True)
    meeting_date = fields.Datetime(related="meeting_id.date", string="Meeting Date")

    def _followup_summary(self):
        self.ensure_one()
        return _("%(meeting)s: %(action)s", meeting=self.meeting_id.name, action=self.name)

    def _is_owner_or_officer(self, user):
        return user == self.user_id or user.has_group(GROUP_OFFICER)

    def action_done(self):
        self._check_transition("action_done")
        self._mark_done()
        return True

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._cancel_followup()
        return True
