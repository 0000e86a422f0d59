from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

from .complaint_case import KINDS, URGENCIES

APPROVER_TYPES = [
    ("group", "Group"),
    ("user", "Named User"),
    ("requester_manager", "Requester's Department Manager"),
    ("department_manager", "Responsible Department's Manager"),
]
THRESHOLD_MODES = [
    ("none", "Any Amount"),
    ("company", "Above the Company Threshold"),
    ("custom", "Custom Range"),
]


class ComplaintApprovalRule(models.Model):
    """Who must approve which document, and when. Each matching rule is one
    step of the approval, in the order of the rules' sequence."""

    _name = "complaint.approval.rule"
    _description = "Complaint Approval Rule"
    _inherit = ["complaint.workflow.mixin"]
    _order = "model, sequence, id"
    _check_company_auto = True

    name = fields.Char(string="Step", required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Empty: every company.")
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id",
        help="Amounts are in the company currency.",
    )
    model_id = fields.Many2one(
        "ir.model", string="Document Type", required=True, ondelete="cascade",
        domain=lambda self: [("model", "in", self._approvable_models())],
    )
    model = fields.Char(related="model_id.model", store=True, index=True, string="Document Model")

    # Conditions (all those set must hold)
    threshold_mode = fields.Selection(
        THRESHOLD_MODES, string="Amount Condition", required=True, default="none",
    )
    min_amount = fields.Float(
        string="Above", digits="Account",
        help="The step applies when the amount is strictly above this value.",
    )
    max_amount = fields.Float(
        string="Up To", digits="Account",
        help="The step applies when the amount is at most this value; 0 means no upper limit.",
    )
    solution_type_ids = fields.Many2many(
        "complaint.solution.type", string="Solution Types",
        help="Any of these solution types in the document makes the step apply. Empty: any solution.",
    )
    # The chosen types as codes, kept for the rule's check and for data files.
    solution_types = fields.Char(
        string="Solution Type Codes", compute="_compute_solution_types", inverse="_inverse_solution_types",
        store=True, readonly=False,
        help="Comma-separated solution type codes (refund, exchange, repair, price_reduction, "
        "compensation, voucher, apology), the same as the Solution Types.",
    )
    urgency = fields.Selection(URGENCIES, help="Empty: any urgency.")
    kind = fields.Selection(KINDS, string="Case Kind", help="Empty: any kind.")
    domain = fields.Char(
        string="Other Condition", default="[]",
        help="Domain on the document, for any other condition.",
    )

    @api.depends("solution_type_ids.code")
    def _compute_solution_types(self):
        for rule in self:
            rule.solution_types = ",".join(rule.solution_type_ids.sorted().mapped("code")) or False

    def _inverse_solution_types(self):
        Type = self.env["complaint.solution.type"].sudo()
        for rule in self:
            codes = {code.strip() for code in (rule.solution_types or "").split(",") if code.strip()}
            unknown = codes - set(Type.search([]).mapped("code"))
            if unknown:
                raise ValidationError(_("Solution Types: unknown type %s.", ", ".join(sorted(unknown))))
            rule.solution_type_ids = Type.search([("code", "in", list(codes))])

    # Approver
    approver_type = fields.Selection(APPROVER_TYPES, required=True, default="group")
    group_id = fields.Many2one("res.groups", string="Approver Group")
    user_id = fields.Many2one(
        "res.users", string="Approver", domain="[('share', '=', False)]", check_company=True,
    )
    note = fields.Text(string="Basis", translate=True, help="Which procedure the rule comes from.")

    @api.model
    def _approvable_models(self):
        mixin = self.pool["complaint.approval.mixin"]
        return [
            name for name, cls in self.pool.items()
            if not cls._abstract and name != mixin._name and issubclass(cls, mixin)
        ]

    @api.depends("company_id")
    def _compute_currency_id(self):
        for rule in self:
            rule.currency_id = (rule.company_id or self.env.company).currency_id

    @api.constrains("approver_type", "group_id", "user_id")
    def _check_approver(self):
        for rule in self:
            if rule.approver_type == "group" and not rule.group_id:
                raise ValidationError(_("Rule '%s' needs an approver group.", rule.name))
            if rule.approver_type == "user" and not rule.user_id:
                raise ValidationError(_("Rule '%s' needs a named approver.", rule.name))

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                domain = safe_eval(rule.domain or "[]")
                self.env[rule.model].search_count(domain, limit=1) if rule.model else None
            except Exception as error:
                raise ValidationError(
                    _("The condition of rule '%(rule)s' is not a valid domain: %(error)s",
                      rule=rule.name, error=error)
                ) from error

    # ------------------------------------------------------------------
    def _threshold_bounds(self, record):
        self.ensure_one()
        if self.threshold_mode == "company":
            company = record._approval_company()
            return company.complaint_approval_threshold, 0.0
        if self.threshold_mode == "custom":
            return self.min_amount, self.max_amount
        return None, None

    def _matches(self, record):
        """Whether this rule applies to `record` (a document with the mixin)."""
        self.ensure_one()
        low, high = self._threshold_bounds(record)
        if low is not None:
            amount = record._approval_amount()
            if record._approval_company().currency_id.compare_amounts(amount, low) <= 0:
                return False
            if high and record._approval_company().currency_id.compare_amounts(amount, high) > 0:
                return False
        if self.solution_types:
            wanted = {code.strip() for code in self.solution_types.split(",") if code.strip()}
            if not wanted & set(record._approval_solution_types()):
                return False
        if self.urgency and record._approval_urgency() != self.urgency:
            return False
        if self.kind and record._approval_kind() != self.kind:
            return False
        domain = safe_eval(self.domain or "[]")
        if domain and not record.sudo().filtered_domain(domain):
            return False
        return True

    def _approvers_for(self, record):
        """Users who may approve this step of `record`."""
        self.ensure_one()
        if self.approver_type == "group":
            users = self.group_id.sudo().users
        elif self.approver_type == "user":
            users = self.user_id
        elif self.approver_type == "requester_manager":
            employee = self.env.user.employee_id
            users = employee.department_id.manager_id.user_id or employee.parent_id.user_id
        else:
            users = record._approval_department().sudo().manager_id.user_id
        return users.filtered(lambda u: u.active and not u.share)

    def _no_approver_reason(self, record):
        self.ensure_one()
        if self.approver_type == "group":
            return _("the group %s has no user.", self.group_id.display_name)
        if self.approver_type == "user":
            return _("the named approver is archived.")
        if self.approver_type == "requester_manager":
            return _("your department has no manager; set one on the department.")
        department = record._approval_department()
        if not department:
            return _("set the responsible department first.")
        return _("department %s has no manager; set one on the department.", department.display_name)
