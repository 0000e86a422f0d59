from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import _, _lt, api, fields, models
from odoo.exceptions import UserError

from ..tools import Transition
from .complaint_report import MAILING_KEY

GROUP_OFFICER = "complaint_handling.group_complaint_officer"

MEETING_STATES = [
    ("draft", "Planned"),
    ("held", "Held"),
    ("minutes_sent", "Minutes Sent"),
]


def _previous_month_start(today):
    return today.replace(day=1) - relativedelta(months=1)


class ComplaintReviewMeeting(models.Model):
    """The monthly complaint review meeting (客户抱怨检讨会议): the period's
    serious and recurring cases and figures, decisions, improvement actions,
    and minutes sent to the attendees."""

    _name = "complaint.review.meeting"
    _description = "Complaint Review Meeting"
    _inherit = ["mail.thread", "mail.activity.mixin", "complaint.workflow.mixin"]
    _order = "date desc, id desc"
    _transitions = {
        "action_prefill_cases": Transition(_lt("fill in the cases of"), ("draft", "held"), (GROUP_OFFICER,)),
        "action_hold": Transition(_lt("hold"), ("draft",), (GROUP_OFFICER,)),
        "action_send_minutes": Transition(
            _lt("send the minutes of"), ("held", "minutes_sent"), (GROUP_OFFICER,),
        ),
    }
    _check_company_auto = True

    name = fields.Char(required=True, default=lambda self: _("Complaint Review Meeting"), tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date = fields.Datetime(required=True, default=fields.Datetime.now, tracking=True)
    chair_id = fields.Many2one(
        "res.users", string="Chair", required=True, default=lambda self: self.env.user, check_company=True,
    )
    attendee_ids = fields.Many2many("res.users", string="Attendees", check_company=True)
    period_start = fields.Date(
        string="Period From", required=True,
        default=lambda self: _previous_month_start(fields.Date.context_today(self)),
    )
    period_end = fields.Date(
        string="Period To", required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1) - relativedelta(days=1),
    )
    state = fields.Selection(MEETING_STATES, default="draft", required=True, readonly=True, tracking=True)
    case_ids = fields.Many2many("complaint.case", string="Cases Reviewed", check_company=True)
    decisions = fields.Html()
    action_ids = fields.One2many("complaint.review.action", "meeting_id", string="Improvement Actions")
    earlier_open_action_ids = fields.Many2many(
        "complaint.review.action", string="Open Actions of Earlier Meetings",
        compute="_compute_earlier_open_action_ids",
    )
    case_count = fields.Integer(string="Complaints in the Period", compute="_compute_figures")
    quality_case_count = fields.Integer(string="Quality Complaints", compute="_compute_figures")
    overdue_case_count = fields.Integer(string="Overdue", compute="_compute_figures")
    sla_met_rate = fields.Float(string="SLA Met Rate (%)", compute="_compute_figures")
    sla_result_count = fields.Integer(
        string="Results Known", compute="_compute_figures",
        help="Cases of the period whose SLA result is known (met or breached); without any, no rate.",
    )

    @api.constrains("period_start", "period_end")
    def _check_period(self):
        for meeting in self:
            if meeting.period_end < meeting.period_start:
                raise UserError(_("Period To: it comes before 'Period From' on meeting %s.", meeting.name))

    def _period_domain(self):
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id), ("state", "!=", "cancelled"),
            ("received_date", ">=", datetime.combine(self.period_start, time.min)),
            ("received_date", "<", datetime.combine(self.period_end + relativedelta(days=1), time.min)),
        ]

    @api.depends("period_start", "period_end", "company_id")
    def _compute_figures(self):
        Report = self.env["complaint.report"]
        for meeting in self:
            if not (meeting.period_start and meeting.period_end):
                meeting.update({"case_count": 0, "quality_case_count": 0, "overdue_case_count": 0,
                                "sla_met_rate": 0.0, "sla_result_count": 0})
                continue
            domain = meeting._period_domain()
            count = Report.search_count(domain)
            quality = Report.search_count(domain + [("quality_related", "=", True)])
            overdue = Report.search_count(domain + [("is_overdue", "=", True)])
            rate = Report._read_group(domain, [], ["sla_met_rate:avg"])[0][0] or 0.0
            known = Report.search_count(domain + [("sla_status", "in", ("met", "breached"))])
            meeting.update({"case_count": count, "quality_case_count": quality,
                            "overdue_case_count": overdue, "sla_met_rate": rate, "sla_result_count": known})

    @api.depends("date", "company_id")
    def _compute_earlier_open_action_ids(self):
        Action = self.env["complaint.review.action"]
        for meeting in self:
            meeting.earlier_open_action_ids = Action.search([
                ("company_id", "=", meeting.company_id.id), ("state", "=", "todo"),
                ("meeting_id.date", "<", meeting.date or fields.Datetime.now()),
                ("meeting_id", "!=", meeting.id or False),
            ])

    def action_prefill_cases(self):
        """The period's serious (urgent, or flagged serious) and recurring cases."""
        self._check_transition("action_prefill_cases")
        for meeting in self:
            cases = self.env["complaint.case"].search(meeting._period_domain() + [
                "|", "|", ("urgency", "=", "urgent"), ("is_serious", "=", True), ("is_recurring", "=", True),
            ])
            meeting.case_ids = [fields.Command.set(cases.ids)]
        return True

    def action_hold(self):
        self._check_transition("action_hold")
        self._set_state("held")
        return True

    def action_send_minutes(self):
        """The minutes as a PDF, e-mailed to the attendees and the chair."""
        self._check_transition("action_send_minutes")
        template = self.env.ref("complaint_handling.mail_template_complaint_review_minutes")
        for meeting in self:
            recipients = (meeting.attendee_ids | meeting.chair_id).partner_id
            # One PDF for all the attendees: case numbers and categories, no subjects.
            meeting.with_context(**{MAILING_KEY: True}).message_post_with_source(
                template, subtype_xmlid="mail.mt_comment", partner_ids=recipients.ids,
            )
            meeting._set_state("minutes_sent")
        return True
