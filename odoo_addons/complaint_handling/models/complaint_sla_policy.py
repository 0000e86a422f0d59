from datetime import timedelta

from odoo import api, fields, models

from ..tools import add_working_days
from .complaint_case import CHANNELS, URGENCIES


class ComplaintSlaPolicy(models.Model):
    """A time limit for complaint cases.

    Each case takes its first-response target and its resolution target from
    the most specific active policy that matches it and sets that target:
    a policy naming a channel beats one naming a category, which beats one
    naming only an urgency.
    """

    _name = "complaint.sla.policy"
    _description = "Complaint SLA Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company")
    urgency = fields.Selection(URGENCIES, help="Leave empty to match any urgency.")
    category_id = fields.Many2one(
        "complaint.category", check_company=True, help="Leave empty to match any category."
    )
    channel = fields.Selection(CHANNELS, help="Leave empty to match any channel.")
    response_hours = fields.Float(
        string="First Response Within (hours)",
        help="0 means this policy sets no first-response target.",
    )
    resolve_hours = fields.Float(
        string="Resolve Within (hours)",
        help="Resolution target in hours; used instead of working days when set.",
    )
    resolve_days = fields.Integer(
        string="Resolve Within (working days)",
        help="Resolution target in working days of the company calendar, "
        "counted from the working day after receipt. 0 means no target.",
    )
    around_the_clock = fields.Boolean(
        help="Count the hour targets around the clock (24/7). Otherwise hours "
        "are working hours on the company calendar, public holidays excluded.",
    )

    _sql_constraints = [
        (
            "targets_positive",
            "CHECK(response_hours >= 0 AND resolve_hours >= 0 AND resolve_days >= 0)",
            "SLA targets cannot be negative.",
        ),
    ]

    def _specificity(self):
        self.ensure_one()
        return (4 if self.channel else 0) + (2 if self.category_id else 0) + (
            1 if self.urgency else 0
        )

    @api.model
    def _find_for(self, company, urgency, category, channel):
        """Return (response_policy, resolve_policy) for these case attributes."""
        policies = self.search(
            [
                ("company_id", "in", [company.id, False]),
                ("urgency", "in", [urgency, False]),
                ("category_id", "in", [category.id, False]),
                ("channel", "in", [channel, False]),
            ]
        ).sorted(lambda p: (-p._specificity(), p.sequence, p.id))
        response = policies.filtered("response_hours")[:1]
        resolve = policies.filtered(lambda p: p.resolve_hours or p.resolve_days)[:1]
        return response, resolve

    # ------------------------------------------------------------------
    # Deadline arithmetic on the working calendar (resource API)
    # ------------------------------------------------------------------
    def _add_hours(self, calendar, start, hours):
        self.ensure_one()
        if self.around_the_clock or not calendar:
            return start + timedelta(hours=hours)
        return calendar.plan_hours(hours, start, compute_leaves=True)

    def _response_deadline(self, calendar, received):
        self.ensure_one()
        return self._add_hours(calendar, received, self.response_hours)

    def _resolve_deadline(self, calendar, received, day_ends=None):
        """`day_ends`: optional ends of the working days after `received`
        (see tools.working_day_ends), to share one calendar query."""
        self.ensure_one()
        if self.resolve_hours:
            return self._add_hours(calendar, received, self.resolve_hours)
        if day_ends is not None and len(day_ends) >= self.resolve_days:
            return day_ends[self.resolve_days - 1] if self.resolve_days else False
        return add_working_days(calendar, received, self.resolve_days)

