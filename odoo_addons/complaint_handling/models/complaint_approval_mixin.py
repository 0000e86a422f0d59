from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

APPROVAL_STATES = [
    ("draft", "Not Requested"),
    ("pending", "Waiting for Approval"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
]


class ComplaintApprovalMixin(models.AbstractModel):
    """Approval within each manager's authority, reusable by any document.

    A document inheriting this mixin declares:

    - ``_approval_content_fields``: the fields whose value is what gets
      approved; writing one of them on a pending or approved document
      restarts the approval;
    - the ``_approval_*`` value methods the rules' conditions read (amount in
      company currency, solution types, urgency, kind, department);
    - optionally ``_approval_on_approved`` / ``_approval_on_rejected`` /
      ``_approval_on_restart`` hooks for its own states.

    Requesting the approval (``_approval_request``) creates one
    ``complaint.approval.review`` per matching ``complaint.approval.rule``,
    in the rules' order; each step waits for the previous one.

    The approval state, its requester and the steps are workflow fields:
    only the mechanism below writes them (``_workflow_write``), so no client
    can approve by writing ``approval_state`` or become someone else's
    requester.
    """

    _name = "complaint.approval.mixin"
    _description = "Complaint Approval Mixin"
    _inherit = ["complaint.workflow.mixin"]

    _approval_content_fields = []

    approval_state = fields.Selection(
        APPROVAL_STATES, default="draft", required=True, readonly=True, copy=False,
        index=True,
    )
    approval_requested_by_id = fields.Many2one(
        "res.users", string="Approval Requested By", readonly=True, copy=False,
    )
    approval_requested_date = fields.Datetime(readonly=True, copy=False)
    approval_review_ids = fields.One2many(
        "complaint.approval.review", "res_id", string="Approvals", readonly=True, copy=False,
        domain=lambda self: [("res_model", "=", self._name)],
    )
    approval_current_review_id = fields.Many2one(
        "complaint.approval.review", string="Current Approval Step",
        compute="_compute_approval_current_review",
    )
    approval_next_approvers = fields.Char(
        string="Waiting For", compute="_compute_approval_current_review",
    )
    approval_can_review = fields.Boolean(
        string="Can Approve", compute="_compute_approval_current_review",
    )

    @api.depends("approval_state", "approval_review_ids.status")
    @api.depends_context("uid")
    def _compute_approval_current_review(self):
        for record in self:
            review = record.approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
            record.approval_current_review_id = review
            record.approval_next_approvers = ", ".join(review.sudo().reviewer_ids.mapped("name"))
            record.approval_can_review = bool(
                review
                and self.env.user in review.sudo().reviewer_ids
                and self.env.user != record.approval_requested_by_id
            )

    # ------------------------------------------------------------------
    # What the rules read (override in documents)
    # ------------------------------------------------------------------
    def _approval_amount(self):
        """Amount to approve, in the company currency."""
        return 0.0

    def _approval_solution_types(self):
        """Set of solution type codes the document promises."""
        return set()

    def _approval_urgency(self):
        return False

    def _approval_kind(self):
        return False

    def _approval_company(self):
        return self["company_id"] if "company_id" in self._fields else self.env.company

    def _approval_department(self):
        """Department whose manager approves 'responsible department' steps."""
        return self.env["hr.department"]

    def _approval_label(self):
        return self.display_name

    # ------------------------------------------------------------------
    # Rules and steps
    # ------------------------------------------------------------------
    def _approval_rules(self):
        """The active rules of this document type that apply to the record."""
        self.ensure_one()
        rules = self.env["complaint.approval.rule"].sudo().search(
            [
                ("model", "=", self._name),
                ("company_id", "in", (False, self._approval_company().id)),
            ],
            order="sequence, id",
        )
        return rules.filtered(lambda rule: rule._matches(self))

    def _approval_is_required(self):
        self.ensure_one()
        return bool(self._approval_rules())

    def _approval_request(self):
        """Start the approval: one review per matching rule, in sequence.
        Without any matching rule the document is approved at once."""
        Review = self.env["complaint.approval.review"].sudo()
        for record in self:
            if record.approval_state == "pending":
                raise UserError(
                    _("%s is already waiting for approval.", record._approval_label())
                )
            record._approval_clear()
            rules = record._approval_rules()
            vals = {
                "approval_requested_by_id": self.env.user.id,
                "approval_requested_date": fields.Datetime.now(),
            }
            if not rules:
                vals["approval_state"] = "approved"
                record._workflow_write(vals)
                record.message_post(
                    body=_("No approval needed within the approval rules."),
                    subtype_xmlid="mail.mt_note",
                )
                record._approval_on_approved()
                continue
            reviews = Review
            for position, rule in enumerate(rules, start=1):
                reviewers = rule._approvers_for(record)
                if not reviewers:
                    raise UserError(
                        _(
                            "Nobody can approve the step '%(step)s' of %(document)s: %(why)s",
                            step=rule.name,
                            document=record._approval_label(),
                            why=rule._no_approver_reason(record),
                        )
                    )
                reviews |= Review.create(
                    {
                        "res_model": record._name,
                        "res_id": record.id,
                        "rule_id": rule.id,
                        "step_name": rule.name,
                        "sequence": position,
                        "reviewer_ids": [fields.Command.set(reviewers.ids)],
                        "requested_by_id": self.env.user.id,
                        "company_id": record._approval_company().id,
                    }
                )
            vals["approval_state"] = "pending"
            record._workflow_write(vals)
            record.message_post(
                body=_(
                    "Approval requested: %s.",
                    " → ".join(reviews.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
            record._approval_activate_next()

    def _approval_activate_next(self):
        """Make the first waiting step pending and give its approvers an activity."""
        for record in self:
            reviews = record.sudo().approval_review_ids.sorted("sequence")
            if any(r.status == "pending" for r in reviews):
                continue
            step = reviews.filtered(lambda r: r.status == "waiting")[:1]
            if not step:
                continue
            step.status = "pending"
            for user in step.reviewer_ids - record.approval_requested_by_id:
                record.sudo().activity_schedule(
                    "complaint_handling.mail_activity_type_complaint_approval",
                    user_id=user.id,
                    summary=_("Approve: %s", step.name),
                    note=_("%(document)s waits for your approval (%(step)s).",
                           document=record._approval_label(), step=step.name),
                )

    def _approval_check_reviewer(self):
        """The current user may act on the pending step of every record."""
        for record in self:
            if record.approval_state != "pending":
                raise UserError(
                    _("%s is not waiting for approval.", record._approval_label())
                )
            if record.approval_requested_by_id == self.env.user:
                raise AccessError(
                    _(
                        "You requested the approval of %s; you cannot approve or reject "
                        "your own request.", record._approval_label(),
                    )
                )
            step = record.sudo().approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
            if self.env.user not in step.reviewer_ids:
                raise AccessError(
                    _(
                        "The step '%(step)s' of %(document)s is for %(approvers)s; you are not "
                        "among its approvers.",
                        step=step.name,
                        document=record._approval_label(),
                        approvers=", ".join(step.reviewer_ids.mapped("name")),
                    )
                )

    def _approval_done_activities(self, feedback):
        activity_type = self.env.ref(
            "complaint_handling.mail_activity_type_complaint_approval", raise_if_not_found=False
        )
        if not activity_type:
            return
        activities = self.env["mail.activity"].sudo().search(
            [
                ("res_model", "=", self._name),
                ("res_id", "in", self.ids),
                ("activity_type_id", "=", activity_type.id),
            ]
        )
        # The decision is logged once, by the caller's note: the activities
        # go without a second "activity done" message.
        activities.unlink()

    def _approval_approve(self, comment=False):
        self._approval_check_reviewer()
        now = fields.Datetime.now()
        for record in self:
            step = record.sudo().approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
            step.write({"status": "approved", "done_by_id": self.env.user.id, "done_date": now,
                        "comment": comment})
            record._approval_done_activities(_("Approved"))
            record.message_post(
                body=_("Approved (%(step)s) by %(user)s. %(comment)s",
                       step=step.name, user=self.env.user.name, comment=comment or ""),
                subtype_xmlid="mail.mt_note",
            )
            if all(r.status == "approved" for r in record.sudo().approval_review_ids):
                record._workflow_write(
                    {"approval_state": "approved"}
                )
                record._approval_on_approved()
            else:
                record._approval_activate_next()
        return True

    def _approval_reject(self, comment):
        if not comment:
            raise UserError(_("Say why you reject, so that the request can be corrected."))
        self._approval_check_reviewer()
        now = fields.Datetime.now()
        for record in self:
            step = record.sudo().approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
            step.write({"status": "rejected", "done_by_id": self.env.user.id, "done_date": now,
                        "comment": comment})
            record.sudo().approval_review_ids.filtered(lambda r: r.status == "waiting").write(
                {"status": "cancelled"}
            )
            record._approval_done_activities(_("Rejected"))
            record._workflow_write({"approval_state": "rejected"})
            record.message_post(
                body=_("Rejected (%(step)s) by %(user)s: %(comment)s",
                       step=step.name, user=self.env.user.name, comment=comment),
                subtype_xmlid="mail.mt_note",
            )
            record._approval_on_rejected()
            if record.approval_requested_by_id:
                record.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=record.approval_requested_by_id.id,
                    summary=_("Approval rejected"),
                    note=comment,
                )
        return True

    def _approval_clear(self):
        """Drop the steps of a previous request."""
        self.sudo().approval_review_ids.unlink()
        self._approval_done_activities(_("Approval restarted"))

    def _approval_restart(self, reason):
        """Approved content changed: the approval starts again from scratch."""
        for record in self.filtered(lambda r: r.approval_state in ("pending", "approved", "rejected")):
            record._approval_clear()
            record._workflow_write(
                {"approval_state": "draft", "approval_requested_by_id": False,
                 "approval_requested_date": False}
            )
            record.message_post(
                body=_("The approval starts again: %s", reason), subtype_xmlid="mail.mt_note"
            )
            record._approval_on_restart()

    def _check_approved(self, action_label):
        """Refuse `action_label` on a record that is not approved."""
        for record in self:
            if record.approval_state != "approved":
                state = dict(self._fields["approval_state"]._description_selection(self.env))[
                    record.approval_state
                ]
                raise UserError(
                    _(
                        "You cannot %(action)s %(document)s: it is not approved (%(state)s).",
                        action=action_label,
                        document=record._approval_label(),
                        state=state,
                    )
                )

    # Hooks
    def _approval_on_approved(self):
        return True

    def _approval_on_rejected(self):
        return True

    def _approval_on_restart(self):
        return True

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    def write(self, vals):
        """Changing approved content (``_approval_content_fields``) restarts
        the approval; the mechanism's own steps don't."""
        if self._in_server_step():
            return super().write(vals)
        changed = set(vals) & set(self._approval_content_fields)
        to_restart = self.browse()
        if changed:
            to_restart = self.filtered(lambda r: r.approval_state != "draft")
        result = super().write(vals)
        if to_restart:
            labels = ", ".join(
                self._fields[f].get_description(self.env)["string"] for f in sorted(changed)
            )
            to_restart._approval_restart(_("approved content changed (%s).", labels))
        return result

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_approval_request(self):
        """Offered by documents that declare the transition (the case);
        others request the approval from their own submit step."""
        if "action_approval_request" not in self._transitions:
            raise UserError(_("%s asks for its approval when it is submitted.", self._description))
        self._check_transition("action_approval_request")
        self._approval_request()
        return True

    def _approval_wizard(self, decision):
        return {
            "type": "ir.actions.act_window",
            "name": _("Approve") if decision == "approve" else _("Reject"),
            "res_model": "complaint.approval.comment.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_res_model": self._name,
                "default_res_ids": ",".join(str(i) for i in self.ids),
                "default_decision": decision,
            },
        }

    def _approval_is_current_reviewer(self, user):
        """Party condition of an approval step: `user` approves the pending
        step, and did not request the approval."""
        self.ensure_one()
        step = self.sudo().approval_review_ids.filtered(lambda r: r.status == "pending")[:1]
        return bool(step) and user in step.reviewer_ids and user != self.approval_requested_by_id

    def action_approval_approve(self):
        """A document declaring the step (the case) is approved at once, with
        no dialog (a comment is optional; rejecting asks for the reason).
        Others ask for a comment in a dialog."""
        if "action_approval_approve" in self._transitions:
            self._check_transition("action_approval_approve")
            self._approval_approve()
            return True
        self._approval_check_reviewer()
        return self._approval_wizard("approve")

    def action_approval_reject(self):
        self._approval_check_reviewer()
        return self._approval_wizard("reject")
