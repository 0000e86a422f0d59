import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

NOTICE_STATES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("sent_to_finance", "Sent to Finance"),
    ("applied", "Applied"),
    ("cancelled", "Cancelled"),
]
PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Context key set only by _set_notice_state().
NOTICE_TRANSITION_KEY = "complaint_notice_transition"
# What the general manager approves: locked once sent to finance.
NOTICE_CONTENT_FIELDS = ("line_ids", "review_month", "note", "reversed_notice_id", "company_id")
# What finance records when applying: locked once applied.
NOTICE_APPLY_FIELDS = ("period", "applied_reference", "applied_date", "applied_by_id")

GROUP_GM_OFFICE = "complaint_handling.group_complaint_gm_office"
GROUP_FINANCE = "complaint_handling.group_complaint_finance"
GROUP_HR = "hr.group_hr_user"


def check_period(period):
    if not period or not PERIOD_PATTERN.match(period):
        raise ValidationError(_("A payroll period is a month written YYYY-MM, for example 2025-03."))


class ComplaintPenaltyNotice(models.Model):
    """Reward/penalty notice (奖罚通知单): issued by the general manager's
    office after the monthly complaint review, approved by the general
    manager, then applied by finance to the payroll of a period. Once
    applied it never changes; a correction is a reversing notice."""

    _name = "complaint.penalty.notice"
    _description = "Reward/Penalty Notice"
    _inherit = ["mail.thread", "mail.activity.mixin", "complaint.approval.mixin"]
    _order = "id desc"

    _approval_content_fields = list(NOTICE_CONTENT_FIELDS)

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default=lambda self: _("New"),
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        NOTICE_STATES, default="draft", required=True, readonly=True, copy=False, tracking=True, index=True,
    )
    review_month = fields.Date(
        help="First day of the month whose closed serious complaints were reviewed.",
    )
    period = fields.Char(
        string="Payroll Period", required=True, index=True,
        default=lambda self: fields.Date.context_today(self).strftime("%Y-%m"),
        help="Month (YYYY-MM) of the payroll the amounts go into.",
    )
    note = fields.Text(string="Decision")
    line_ids = fields.One2many("complaint.penalty.notice.line", "notice_id", string="Lines", copy=True)
    amount_penalty = fields.Monetary(
        string="Penalties", currency_field="currency_id", compute="_compute_amounts", store=True,
    )
    amount_reward = fields.Monetary(
        string="Rewards", currency_field="currency_id", compute="_compute_amounts", store=True,
    )
    has_admin_sanction = fields.Boolean(
        string="Administrative Sanction", compute="_compute_amounts", store=True,
    )
    reversed_notice_id = fields.Many2one(
        "complaint.penalty.notice", string="Reverses", readonly=True, copy=False, index="btree_not_null",
        check_company=True,
    )
    reversal_ids = fields.One2many("complaint.penalty.notice", "reversed_notice_id", string="Reversals")
    sent_to_finance_date = fields.Datetime(readonly=True, copy=False)
    applied_reference = fields.Char(string="Payroll Reference", readonly=True, copy=False)
    applied_date = fields.Date(string="Applied On", readonly=True, copy=False)
    applied_by_id = fields.Many2one("res.users", string="Applied By", readonly=True, copy=False)

    @api.depends("line_ids.amount", "line_ids.kind", "line_ids.admin_sanction")
    def _compute_amounts(self):
        for notice in self:
            lines = notice.line_ids
            notice.amount_penalty = sum(lines.filtered(lambda l: l.kind == "penalty").mapped("amount"))
            notice.amount_reward = sum(lines.filtered(lambda l: l.kind == "reward").mapped("amount"))
            notice.has_admin_sanction = any(lines.mapped("admin_sanction"))

    @api.constrains("period")
    def _check_period(self):
        for notice in self:
            check_period(notice.period)

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("state", "draft") != "draft" and not self.env.context.get(NOTICE_TRANSITION_KEY):
                raise UserError(_("A new reward/penalty notice always starts as a draft."))
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("complaint.penalty.notice") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        if "state" in vals and not self.env.context.get(NOTICE_TRANSITION_KEY):
            raise UserError(_("The status of a reward/penalty notice changes only through its buttons."))
        self._check_editable(vals)
        return super().write(vals)

    def _check_editable(self, fnames):
        fnames = set(fnames)
        for notice in self:
            if notice.state in ("applied", "cancelled") and fnames & set(
                NOTICE_CONTENT_FIELDS + NOTICE_APPLY_FIELDS
            ):
                raise UserError(
                    _(
                        "Notice %s is applied or cancelled and cannot be changed; correct it "
                        "with a reversing notice.", notice.name,
                    )
                )
            if notice.state == "sent_to_finance" and fnames & set(NOTICE_CONTENT_FIELDS):
                raise UserError(
                    _("Notice %s is with finance; its approved lines cannot be changed.", notice.name)
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if any(notice.state not in ("draft", "cancelled") or notice.reversal_ids for notice in self):
            raise UserError(_("Only draft reward/penalty notices can be deleted; cancel the others."))

    def _set_notice_state(self, state, **values):
        values["state"] = state
        self.with_context(**{NOTICE_TRANSITION_KEY: True}).write(values)

    # ------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------
    def _approval_amount(self):
        return self.amount_penalty + self.amount_reward

    def _approval_label(self):
        return _("Reward/penalty notice %s", self.name)

    def _approval_on_approved(self):
        self.filtered(lambda n: n.state == "submitted")._set_notice_state("approved")
        self.filtered("has_admin_sanction")._notify_hr()

    def _approval_on_rejected(self):
        self.filtered(lambda n: n.state == "submitted")._set_notice_state("draft")

    def _approval_on_restart(self):
        self.filtered(lambda n: n.state in ("submitted", "approved"))._set_notice_state("draft")

    def _notify_hr(self):
        """Administrative sanctions go to HR for publication."""
        hr_group = self.env.ref(GROUP_HR, raise_if_not_found=False)
        users = hr_group.sudo().users.filtered(lambda u: u.active and not u.share) if hr_group else False
        for notice in self:
            sanctions = notice.line_ids.filtered("admin_sanction")
            body = _(
                "Administrative sanctions to publish (notice %(notice)s): %(lines)s",
                notice=notice.name,
                lines="; ".join(
                    f"{l.employee_id.name or l.department_id.name}: {l.sanction_detail or l.reason}"
                    for l in sanctions
                ),
            )
            notice.sudo().message_post(
                body=body,
                partner_ids=users.partner_id.ids if users else [],
                subtype_xmlid="mail.mt_comment",
            )

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------
    def _check_group(self, action_label, groups):
        if self.env.su:
            return
        if not any(self.env.user.has_group(g) for g in groups):
            raise AccessError(
                _("You are not allowed to %s reward/penalty notices.", action_label)
            )

    def _check_state(self, action_label, states):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for notice in self:
            if notice.state not in states:
                raise UserError(
                    _(
                        "Notice %(notice)s is %(state)s; you can %(action)s only a notice that is "
                        "%(allowed)s.",
                        notice=notice.name, state=labels[notice.state], action=action_label,
                        allowed=_(" or ").join(labels[s] for s in states),
                    )
                )

    def action_submit(self):
        label = _("submit")
        self._check_group(label, (GROUP_GM_OFFICE,))
        self._check_state(label, ("draft",))
        for notice in self:
            if not notice.line_ids:
                raise UserError(_("Notice %s has no line.", notice.name))
        self._set_notice_state("submitted")
        self._approval_request()
        return True

    def action_send_to_finance(self):
        label = _("send to finance")
        self._check_group(label, (GROUP_GM_OFFICE,))
        self._check_state(label, ("approved",))
        self._check_approved(label)
        self._set_notice_state("sent_to_finance", sent_to_finance_date=fields.Datetime.now())
        finance = self.env.ref(GROUP_FINANCE).sudo().users.filtered(lambda u: u.active and not u.share)
        for notice in self:
            for user in finance[:10]:
                notice.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=user.id,
                    summary=_("Apply reward/penalty notice %s", notice.name),
                )
        return True

    def _apply(self, period, reference, date):
        """Finance applies the notice in the payroll of `period`."""
        label = _("apply")
        self._check_group(label, (GROUP_FINANCE,))
        for notice in self:
            if notice.state == "applied":
                raise UserError(
                    _("Notice %(notice)s is already applied (%(ref)s); it cannot be applied twice.",
                      notice=notice.name, ref=notice.applied_reference)
                )
        self._check_state(label, ("sent_to_finance",))
        self._check_approved(label)
        check_period(period)
        if not reference or not date:
            raise UserError(_("Give the payroll reference and the date it was applied."))
        self.sudo()._set_notice_state(
            "applied", period=period, applied_reference=reference, applied_date=date,
            applied_by_id=self.env.user.id,
        )
        for notice in self:
            notice.sudo().activity_ids.filtered(lambda a: a.user_id == self.env.user).action_feedback(
                feedback=_("Applied in payroll %(period)s (%(ref)s).", period=period, ref=reference)
            )
        return True

    def action_open_apply_wizard(self):
        self._check_group(_("apply"), (GROUP_FINANCE,))
        self._check_state(_("apply"), ("sent_to_finance",))
        return {
            "type": "ir.actions.act_window",
            "name": _("Apply in Payroll"),
            "res_model": "complaint.penalty.apply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_notice_ids": self.ids, "default_period": self[:1].period},
        }

    def action_cancel(self):
        label = _("cancel")
        self._check_group(label, (GROUP_GM_OFFICE,))
        self._check_state(label, ("draft", "submitted", "approved", "sent_to_finance"))
        self._approval_clear()
        self._set_notice_state("cancelled")
        return True

    def action_reset_to_draft(self):
        label = _("reset to draft")
        self._check_group(label, (GROUP_GM_OFFICE,))
        self._check_state(label, ("cancelled",))
        self._set_notice_state("draft")
        self.with_context(complaint_approval_no_reset=True).write(
            {"approval_state": "draft", "approval_requested_by_id": False}
        )
        return True

    def action_create_reversal(self):
        """Correct an applied notice: a draft notice with the opposite amounts."""
        label = _("reverse")
        self._check_group(label, (GROUP_GM_OFFICE,))
        self._check_state(label, ("applied",))
        reversals = self.browse()
        for notice in self:
            if notice.reversed_notice_id:
                raise UserError(_("Notice %s is itself a reversal; issue a new notice instead.", notice.name))
            if notice.reversal_ids.filtered(lambda r: r.state != "cancelled"):
                raise UserError(_("Notice %s already has a reversal.", notice.name))
            commands = []
            for line in notice.line_ids:
                commands.append(fields.Command.create({
                    "employee_id": line.employee_id.id,
                    "department_id": line.department_id.id,
                    "kind": line.kind,
                    "amount": -line.amount,
                    "reason": _("Reversal of %(notice)s: %(reason)s", notice=notice.name, reason=line.reason),
                    "case_ids": [fields.Command.set(line.sudo().case_ids.ids)],
                    "impact_level": line.impact_level,
                }))
            reversal = self.create({
                "company_id": notice.company_id.id,
                "review_month": notice.review_month,
                "reversed_notice_id": notice.id,
                "note": _("Reversal of notice %s.", notice.name),
                "line_ids": commands,
            })
            notice.message_post(
                body=_("Reversed by %s.", reversal._get_html_link()), subtype_xmlid="mail.mt_note",
            )
            reversals |= reversal
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": reversals[:1].id,
            "view_mode": "form",
        }

    def action_print(self):
        return self.env.ref("complaint_handling.action_report_complaint_penalty_notice").report_action(self)
