from odoo import _, api, fields, models

REVIEW_STATUSES = [
    ("waiting", "Waiting"),
    ("pending", "To Approve"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]


class ComplaintApprovalReview(models.Model):
    """One required step of one document's approval. Steps are done in
    sequence: only the first not-done step is pending. Written only by the
    approval mechanism (complaint.approval.mixin), never directly."""

    _name = "complaint.approval.review"
    _description = "Complaint Approval Step"
    _order = "res_model, res_id, sequence, id"
    _check_company_auto = True

    # The step's name is its rule's, read in the reader's language when shown
    # (a rule's name is translatable); the name at request time stays as a
    # fallback for a rule deleted since.
    name = fields.Char(string="Step", compute="_compute_name", inverse="_inverse_name", search="_search_name")
    step_name = fields.Char(string="Step as Requested", readonly=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", required=True, readonly=True, index=True,
    )
    document_name = fields.Char(string="Document", compute="_compute_document_label")
    rule_id = fields.Many2one(
        "complaint.approval.rule", string="Rule", readonly=True, ondelete="set null", check_company=True,
    )
    sequence = fields.Integer(readonly=True)
    status = fields.Selection(REVIEW_STATUSES, required=True, default="waiting", readonly=True, index=True)
    reviewer_ids = fields.Many2many(
        "res.users", "complaint_approval_review_user_rel", "review_id", "user_id",
        string="Approvers", readonly=True,
    )
    requested_by_id = fields.Many2one("res.users", string="Requested By", readonly=True)
    done_by_id = fields.Many2one("res.users", string="Decided By", readonly=True)
    done_date = fields.Datetime(string="Decided On", readonly=True)
    comment = fields.Text(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)

    @api.depends("rule_id.name", "step_name")
    @api.depends_context("lang")
    def _compute_name(self):
        for review in self:
            review.name = review.rule_id.sudo().name or review.step_name

    def _inverse_name(self):
        for review in self:
            review.step_name = review.name

    def _search_name(self, operator, value):
        return ["|", ("rule_id.name", operator, value), ("step_name", operator, value)]

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_document_label(self):
        """The document's name for who may read the document; for the others
        only what kind of document it is."""
        for review in self:
            if review.res_model not in self.env:
                review.document_name = False
                continue
            record = self.env[review.res_model].browse(review.res_id)
            if not record.sudo().exists():
                review.document_name = False
            elif record.has_access("read"):
                review.document_name = record.display_name
            else:
                description = self.env["ir.model"]._get(review.res_model).name
                review.document_name = _("%s (restricted)", description)

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Document"),
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
