from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .complaint_case import GROUP_OFFICER
FOLLOW_UP_OUTCOMES = [
    ("satisfied", "Satisfied"),
    ("unsatisfied", "Unsatisfied"),
    ("unreachable", "Unreachable"),
]
SATISFACTION = [
    ("1", "Very Dissatisfied"),
    ("2", "Dissatisfied"),
    ("3", "Neutral"),
    ("4", "Satisfied"),
    ("5", "Very Satisfied"),
]
CUSTOMER_DECISIONS = [("agreed", "Agreed"), ("declined", "Declined")]


class ComplaintCase(models.Model):
    """What the customer sees and what we send them: acknowledgement,
    written reply, follow-up (回访), satisfaction, and escalation outside
    the company (mediation, consumer association, police)."""

    _inherit = "complaint.case"

    # Acknowledgement
    acknowledgement_sent_date = fields.Datetime(string="Acknowledgement Sent", readonly=True, copy=False)

    # The customer's decision on the proposed solution (portal or by phone)
    customer_decision = fields.Selection(
        CUSTOMER_DECISIONS, readonly=True, copy=False, tracking=True,
        help="The customer's answer to the proposed solution.",
    )
    customer_decision_note = fields.Text(readonly=True, copy=False)
    customer_decision_date = fields.Datetime(readonly=True, copy=False)

    # Follow-up (回访)
    follow_up_outcome = fields.Selection(FOLLOW_UP_OUTCOMES, readonly=True, copy=False, tracking=True)
    follow_up_note = fields.Text(string="Follow-up Note", readonly=True, copy=False)
    follow_up_attempts = fields.Integer(string="Unanswered Follow-up Attempts", readonly=True, copy=False)
    follow_up_date = fields.Datetime(string="Followed Up On", readonly=True, copy=False)
    follow_up_waiver_reason = fields.Char(
        copy=False, tracking=True,
        help="An officer may close without a follow-up outcome, giving the reason here.",
    )
    follow_up_waived_by_id = fields.Many2one("res.users", string="Follow-up Waived By", readonly=True, copy=False)

    # Satisfaction
    satisfaction_rating = fields.Selection(SATISFACTION, readonly=True, copy=False, tracking=True)
    satisfaction_score = fields.Integer(
        compute="_compute_satisfaction_score", store=True, aggregator="avg",
        help="The satisfaction rating as a number from 1 to 5, for averages.",
    )
    satisfaction_comment = fields.Text(readonly=True, copy=False)

    # Escalation outside the company
    mediation_body = fields.Char(
        string="Mediator", help="The superior body or third-party mediator the dispute went to.",
    )
    mediation_start = fields.Date(string="Mediation Started")
    mediation_end = fields.Date(string="Mediation Ended")
    mediation_outcome = fields.Text()
    association_partner_id = fields.Many2one(
        "res.partner", string="Consumer Association Contact", check_company=True,
        help="Told how the case ended when it closes.",
    )
    association_notified_date = fields.Datetime(readonly=True, copy=False)
    involves_illegal_act = fields.Boolean(
        string="Involves Illegal Acts", tracking=True,
        help="Flag cases involving illegal acts: complaint officers are notified and the "
        "report to the police is recorded.",
    )
    police_report_date = fields.Date()
    police_report_ref = fields.Char(string="Police Report Reference")
    police_report_note = fields.Text()

    @api.depends("satisfaction_rating")
    def _compute_satisfaction_score(self):
        for case in self:
            case.satisfaction_score = int(case.satisfaction_rating or 0)

    # ------------------------------------------------------------------
    # Mail hooks
    # ------------------------------------------------------------------
    def _message_post_after_hook(self, message, msg_vals):
        """A customer writing again within the reopen window reopens a closed case."""
        result = super()._message_post_after_hook(message, msg_vals)
        # Only the customer's own message counts: an e-mail received by the
        # gateway, or a post by the customer (portal) — not an employee's post
        # that names the customer as its author.
        from_customer = (self.env.su and message.message_type == "email") or (
            self.env.user.share or self.env.user.partner_id == message.author_id
        )
        if (
            from_customer
            and self.state == "closed"
            and self.partner_id
            and message.author_id == self.partner_id
            and message.message_type in ("email", "comment")
            and not message.subtype_id.internal
            and self.close_date
            and fields.Datetime.now() <= self.close_date + timedelta(days=self.company_id.complaint_reopen_days)
        ):
            self.sudo()._reopen(_("The customer wrote again after closing."))
        return result

    # ------------------------------------------------------------------
    # Acknowledgement
    # ------------------------------------------------------------------
    def _customer_can_receive_email(self):
        self.ensure_one()
        return bool(self.partner_id.email or self.customer_email)

    def _send_to_customer(self, template, attachment_ids=None):
        """E-mail `template` to the customer in their language: through the
        chatter to the contact, or straight to the address given when the
        customer is not (yet) a contact, with a note in the chatter."""
        self.ensure_one()
        if self.partner_id:
            return self.with_context(mail_notify_force_send=False).message_post_with_source(
                template, message_type="comment", subtype_xmlid="mail.mt_comment",
                attachment_ids=attachment_ids or [],
            )
        template.send_mail(
            self.id, email_values={"email_to": self.customer_email, "attachment_ids": attachment_ids or []},
        )
        return self.message_post(
            body=_("E-mail %(template)s sent to %(email)s.", template=template.name, email=self.customer_email),
            subtype_xmlid="mail.mt_note",
        )

    def _acknowledgement_sms_body(self):
        self.ensure_one()
        return _(
            "We received your complaint %(number)s and will answer by %(deadline)s. %(company)s",
            number=self.name,
            deadline=self._customer_deadline_text(),
            company=self.company_id.name,
        )

    def _customer_deadline_text(self):
        """The expected handling time, in the customer's language and timezone."""
        self.ensure_one()
        deadline = self.resolve_deadline or self.overdue_deadline
        if not deadline:
            return ""
        lang = self.partner_id.lang or self.env.lang or "en_US"
        tz = self.partner_id.tz or self.env.user.tz or "UTC"
        return fields.Datetime.context_timestamp(self.with_context(tz=tz), deadline).strftime(
            self.env["res.lang"]._get_data(code=lang).date_format or "%Y-%m-%d"
        )

    # ------------------------------------------------------------------
    # The customer's decision on the solution
    # ------------------------------------------------------------------
    def _record_customer_decision(self, decision, note=False):
        """Record the customer's answer to the proposed solution. A decline
        sends the case back to investigation for a new proposal."""
        self.ensure_one()
        if self.state != "solution_proposed":
            raise UserError(_("Case %s has no proposed solution waiting for the customer's answer.", self.name))
        if self.customer_decision == "agreed":
            # Final once given: a change of mind is a new message on the case.
            raise UserError(
                _("The customer already accepted the solution of case %s; that decision is final. "
                  "Write a message on the case instead.", self.name)
            )
        if decision == "declined" and not note:
            raise UserError(_("Say why the solution is declined, so that a better one can be proposed."))
        self._workflow_write({
            "customer_decision": decision,
            "customer_decision_note": note,
            "customer_decision_date": fields.Datetime.now(),
        })
        label = dict(CUSTOMER_DECISIONS)[decision]
        self.message_post(
            body=_("The customer %(decision)s the proposed solution. %(note)s", decision=label.lower(), note=note or ""),
            subtype_xmlid="mail.mt_note",
        )
        if decision == "declined":
            self._set_state("investigating")
            if self.user_id:
                self.activity_schedule(
                    "complaint_handling.mail_activity_type_complaint_investigate",
                    note=_("The customer declined the solution: %s", note), user_id=self.user_id.id,
                )

    def _check_solution_approved(self):
        result = super()._check_solution_approved()
        declined = self.filtered(lambda c: c.customer_decision == "declined" and c.state == "solution_proposed")
        if declined:
            raise UserError(_("The customer declined the solution of case %s; propose a new one.", declined[0].name))
        return result

    def action_propose_solution(self):
        result = super().action_propose_solution()
        self._workflow_write({"customer_decision": False, "customer_decision_note": False,
                              "customer_decision_date": False})
        return result

    # ------------------------------------------------------------------
    # Written reply and follow-up
    # ------------------------------------------------------------------
    def action_open_reply_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reply to Customer"),
            "res_model": "complaint.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    def action_mark_replied(self):
        result = super().action_mark_replied()
        for case in self:
            case.activity_schedule(
                "complaint_handling.mail_activity_type_complaint_follow_up",
                date_deadline=fields.Date.context_today(case) + timedelta(days=case.company_id.complaint_follow_up_days),
                user_id=(case.user_id or self.env.user).id,
            )
        return result

    def action_record_follow_up(self, outcome=None, note=False):
        """Record a follow-up call: satisfied, unsatisfied (reopens the case),
        or not reached (unreachable once the attempts are used up)."""
        self._check_transition("action_record_follow_up")
        if outcome not in ("satisfied", "unsatisfied", "not_reached"):
            raise UserError(_("A follow-up call ends satisfied, unsatisfied or not reached, not %r.", outcome))
        if outcome == "unsatisfied" and not note:
            raise UserError(_("Say why the customer is not satisfied."))
        now = fields.Datetime.now()
        for case in self:
            if case.state == "replied":
                case._set_state("follow_up")
            case.activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref("complaint_handling.mail_activity_type_complaint_follow_up")
            ).action_feedback(feedback=note or dict(FOLLOW_UP_OUTCOMES).get(outcome, ""))
            if outcome == "not_reached":
                attempts = case.follow_up_attempts + 1
                if attempts < case.company_id.complaint_follow_up_attempts:
                    case._workflow_write({"follow_up_attempts": attempts})
                    case.activity_schedule(
                        "complaint_handling.mail_activity_type_complaint_follow_up",
                        date_deadline=fields.Date.context_today(case) + timedelta(days=1),
                        note=_("Attempt %s: the customer did not answer.", attempts),
                        user_id=(case.user_id or self.env.user).id,
                    )
                    continue
                outcome = "unreachable"
                case._workflow_write({"follow_up_attempts": attempts})
            case._workflow_write({"follow_up_outcome": outcome, "follow_up_note": note, "follow_up_date": now})
            if outcome == "unsatisfied":
                case._reopen(_("Unsatisfied at follow-up: %s", note))

    def action_waive_follow_up(self):
        self._check_transition("action_waive_follow_up")
        self._workflow_write({"follow_up_waived_by_id": self.env.user.id})
        return True

    def _check_can_close(self):
        result = super()._check_can_close()
        for case in self:
            has_outcome = case.follow_up_outcome in ("satisfied", "unreachable")
            if not has_outcome and not case.follow_up_waived_by_id:
                raise UserError(
                    _(
                        "Case %s can close only once the follow-up is recorded (satisfied, or "
                        "unreachable), or an officer waived it with a reason.",
                        case.name,
                    )
                )
        return result

    def action_close(self):
        result = super().action_close()
        self.filtered(
            lambda c: c.channel == "consumer_association" and c.association_partner_id
        )._notify_consumer_association()
        return result

    # ------------------------------------------------------------------
    # Satisfaction
    # ------------------------------------------------------------------
    def _record_satisfaction(self, rating, comment=False):
        self.ensure_one()
        if self.state not in ("replied", "follow_up", "closed"):
            raise UserError(_("Case %s can be rated once the customer has our written reply.", self.name))
        if self.satisfaction_rating:
            # Final once given: the customer's later opinion is a message, not a new rating.
            raise UserError(
                _("Case %s is already rated; the rating is final. Write a message on the case instead.",
                  self.name)
            )
        if str(rating) not in dict(SATISFACTION):
            raise UserError(_("The rating is a number from 1 to 5."))
        self._workflow_write({"satisfaction_rating": str(rating), "satisfaction_comment": comment})
        self.message_post(
            body=_("Satisfaction: %(rating)s/5. %(comment)s", rating=rating, comment=comment or ""),
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------------------
    # Escalation outside the company
    # ------------------------------------------------------------------
    def _notify_consumer_association(self):
        template = self.env.ref("complaint_handling.mail_template_complaint_consumer_association")
        for case in self:
            template.send_mail(case.id, email_values={"recipient_ids": [(6, 0, case.association_partner_id.ids)]})
            case.message_post(
                body=_("The consumer association (%s) was told how the case ended.", case.association_partner_id.name),
                subtype_xmlid="mail.mt_note",
            )
        self._workflow_write({"association_notified_date": fields.Datetime.now()})

    def _notify_illegal_act(self):
        officers = self.env.ref(GROUP_OFFICER).users.filtered(lambda u: not u.share)
        for case in self:
            case.message_post(
                body=_(
                    "Case %s involves illegal acts: record the report to the police "
                    "(date and reference) on the Escalation tab.", case.name,
                ),
                partner_ids=officers.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
