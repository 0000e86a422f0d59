from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

FOLLOWUP_STATES = [
    ("todo", "To Do"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
]


class ComplaintFollowupActionMixin(models.AbstractModel):
    """An action someone owes by a date: corrective and preventive actions of
    contact sheets, improvement actions of review meetings. The owner gets an
    activity due that day and a reminder a few days before (company setting);
    an open action past its date is overdue."""

    _name = "complaint.followup.action.mixin"
    _description = "Complaint Follow-up Action"
    _inherit = ["mail.thread", "mail.activity.mixin", "complaint.workflow.mixin"]
    _order = "date_deadline, id"
    # xml id of the activity type given to owners; set by each model.
    _followup_activity_type = None

    name = fields.Char(string="Action", required=True, tracking=True)
    user_id = fields.Many2one(
        "res.users", string="Owner", required=True, tracking=True, index=True, check_company=True,
    )
    date_deadline = fields.Date(string="Due Date", required=True, tracking=True, index=True)
    state = fields.Selection(FOLLOWUP_STATES, default="todo", required=True, readonly=True, tracking=True,
                             copy=False)
    date_done = fields.Date(string="Done On", readonly=True, copy=False)
    result_note = fields.Text(string="Result")
    reminder_sent = fields.Boolean(readonly=True, copy=False)
    is_overdue = fields.Boolean(string="Overdue", compute="_compute_is_overdue", search="_search_is_overdue")

    @api.depends("state", "date_deadline")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for action in self:
            action.is_overdue = action.state == "todo" and action.date_deadline < today

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search 'Overdue' with = True or = False only."))
        domain = [("state", "=", "todo"), ("date_deadline", "<", fields.Date.context_today(self))]
        return domain if (operator == "=") == value else ["!", "&", *domain]

    @api.model_create_multi
    def create(self, vals_list):
        # Status, done date and reminder: refused by complaint.workflow.mixin.
        actions = super().create(vals_list)
        actions._schedule_owner_activity()
        return actions

    def write(self, vals):
        result = super().write(vals)
        if {"user_id", "date_deadline"} & set(vals):
            # A new owner or due date: a new activity, and a new reminder.
            self.sudo()._workflow_write({"reminder_sent": False})
            self._schedule_owner_activity()
        return result

    def _followup_summary(self):
        """One line naming the action and what it belongs to."""
        self.ensure_one()
        return self.name

    def _schedule_owner_activity(self):
        """One open activity per action, for its owner, due on its due date."""
        for action in self.filtered(lambda a: a.state == "todo"):
            action.activity_unlink([self._followup_activity_type])
            action.activity_schedule(
                self._followup_activity_type, date_deadline=action.date_deadline,
                user_id=action.user_id.id, summary=action._followup_summary(),
            )

    def _set_followup_state(self, state, values=None):
        self.sudo()._workflow_write(dict(values or {}, state=state))

    def _mark_done(self):
        """Done today, with its result; the owner's activity is done too."""
        for action in self:
            if action.state != "todo":
                raise UserError(_("Action '%s' is not open.", action.name))
            if not action.result_note:
                raise UserError(_("Describe the result of action '%s' before marking it done.", action.name))
            action._set_followup_state("done", {"date_done": fields.Date.context_today(action)})
            action.activity_feedback([self._followup_activity_type], feedback=action.result_note)

    def _cancel_followup(self):
        """Cancelled: nothing more is owed, and the owner's activity goes."""
        self._set_followup_state("cancelled")
        self.activity_unlink([self._followup_activity_type])

    @api.model
    def _cron_remind_due_actions(self):
        """Remind owners a few days (company setting) before an action is due, once."""
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([]):
            horizon = today + timedelta(days=company.complaint_action_reminder_days)
            due = self.search([
                ("company_id", "=", company.id), ("state", "=", "todo"), ("reminder_sent", "=", False),
                ("date_deadline", "<=", horizon),
            ])
            for action in due:
                action.message_post(
                    body=_("Reminder: '%(action)s' is due on %(date)s.", action=action._followup_summary(),
                           date=fields.Date.to_string(action.date_deadline)),
                    partner_ids=action.user_id.partner_id.ids,
                    subtype_xmlid="mail.mt_comment",
                )
            due.sudo()._workflow_write({"reminder_sent": True})
