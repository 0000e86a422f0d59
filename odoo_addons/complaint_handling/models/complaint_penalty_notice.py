import re

from odoo import _, _lt, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import Transition, workflow_step

NOTICE_STATES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("sent_to_finance", "Sent to Finance"),
    ("applied", "Applied"),
    ("cancelled", "Cancelled"),
]
PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
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
    _check_company_auto = True

    _approval_content_fields = list(NOTICE_CONTENT_FIELDS)
    _transitions = {
        "action_submit": Transition(_lt("submit"), ("draft",), (GROUP_GM_OFFICE,)),
        "action_send_to_finance": Transition(_lt("send to finance"), ("approved",), (GROUP_GM_OFFICE,)),
        "action_apply": Transition(_lt("apply"), ("sent_to_finance",), (GROUP_FINANCE,)),
        "action_cancel": Transition(
            _lt("cancel"), ("draft", "submitted", "approved", "sent_to_finance"), (GROUP_GM_OFFICE,),
        ),
        "action_reset_to_draft": Transition(_lt("reset to draft"), ("cancelled",), (GROUP_GM_OFFICE,)),
        "action_create_reversal": Transition(_lt("reverse"), ("applied",), (GROUP_GM_OFFICE,)),
    }

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
    # ORM: what create and write of a notice enforce
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Status, number, reversal link and payroll stamps: only the notice's steps set them.
        self._check_workflow_fields(set().union(*vals_list))
        self = self._without_forged_defaults()
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("complaint.penalty.notice") or _("New")
        with workflow_step(self._name):  # the numbers just given
            return super().create(vals_list)

    def write(self, vals):
        # The guard first, so that a forged stamp is named as such, then the lock.
        self._check_workflow_fields(vals)
        self._check_editable(vals)
        return super().write(vals)

    def _check_editable(self, fnames):
        """What the general manager approved is locked once with finance; an
        applied or cancelled notice never changes (even through the steps)."""
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

    # ------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------
    def _approval_amount(self):
        return self.amount_penalty + self.amount_reward

    def _approval_label(self):
        return _("Reward/penalty notice %s", self.name)

    def _approval_on_approved(self):
        self.filtered(lambda n: n.state == "submitted")._set_state("approved")
        self.filtered("has_admin_sanction")._notify_hr()

    def _approval_on_rejected(self):
        self.filtered(lambda n: n.state == "submitted")._set_state("draft")

    def _approval_on_restart(self):
        self.filtered(lambda n: n.state in ("submitted", "approved"))._set_state("draft")

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
    def action_submit(self):
        self._check_transition("action_submit")
        for notice in self:
            if not notice.line_ids:
                raise UserError(_("Notice %s has no line.", notice.name))
        self._set_state("submitted")
        self._approval_request()
        return True

    def action_send_to_finance(self):
        self._check_transition("action_send_to_finance")
        self._check_approved(_("send to finance"))
        self._set_state("sent_to_finance", sent_to_finance_date=fields.Datetime.now())
        finance = self.env.ref(GROUP_FINANCE).sudo().users.filtered(lambda u: u.active and not u.share)
        for notice in self:
            for user in finance[:10]:
                notice.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=user.id,
                    summary=_("Apply reward/penalty notice %s", notice.name),
                )
        return True

    def action_apply(self, period=None, reference=None, date=None):
        """Finance applies the notice in the payroll of `period` (YYYY-MM),
        with the payroll's reference and date (the Apply in Payroll wizard)."""
        label = _("apply")
        for notice in self:
            if notice.state == "applied":
                raise UserError(
                    _("Notice %(notice)s is already applied (%(ref)s); it cannot be applied twice.",
                      notice=notice.name, ref=notice.applied_reference)
                )
        self._check_transition("action_apply")
        self._check_approved(label)
        check_period(period)
        if not reference or not date:
            raise UserError(_("Give the payroll reference and the date it was applied."))
        # Finance reads notices only: the step writes as the server.
        self.sudo()._set_state(
            "applied", period=period, applied_reference=reference, applied_date=date,
            applied_by_id=self.env.user.id,
        )
        for notice in self:
            notice.sudo().activity_ids.filtered(lambda a: a.user_id == self.env.user).action_feedback(
                feedback=_("Applied in payroll %(period)s (%(ref)s).", period=period, ref=reference)
            )
        return True

    def action_open_apply_wizard(self):
        self._check_transition("action_apply")
        return {
            "type": "ir.actions.act_window",
            "name": _("Apply in Payroll"),
            "res_model": "complaint.penalty.apply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_notice_ids": self.ids, "default_period": self[:1].period},
        }

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._approval_clear()
        self._set_state("cancelled")
        return True

    def action_reset_to_draft(self):
        self._check_transition("action_reset_to_draft")
        self._workflow_write({"state": "draft", "approval_state": "draft", "approval_requested_by_id": False})
        return True

    def action_create_reversal(self):
        """Correct an applied notice: a draft notice with the opposite amounts."""
        self._check_transition("action_create_reversal")
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
            reversal = self._workflow_create({
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
