from odoo import _, _lt, api, fields, models

from ..tools import Transition, workflow_step

REMEDIES = [
    ("replace", "Replace the Product"),
    ("take_back", "Take Back the Product"),
    ("injury_compensation", "Compensation for Injury"),
    ("damage_compensation", "Compensation for Damage"),
]
GROUP_USER = "complaint_handling.group_complaint_user"


class ComplaintMajorIncident(models.Model):
    """Major quality incident application (重大质量事故处理申请表): a written
    application for replacing or taking back the product, or compensating
    injury or damage, approved by company leadership (the GM route)."""

    _name = "complaint.major.incident"
    _description = "Major Quality Incident Application"
    _inherit = ["mail.thread", "mail.activity.mixin", "complaint.approval.mixin"]
    _order = "id desc"
    _check_company_auto = True

    _approval_content_fields = ["case_id", "facts", "losses", "remedy", "remedy_detail", "amount"]
    # An application has no status of its own: its approval is its life.
    _workflow_state_field = "approval_state"
    _transitions = {
        "action_submit": Transition(_lt("submit"), ("draft", "rejected"), (GROUP_USER,)),
    }

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default=lambda self: _("New"),
    )
    case_id = fields.Many2one(
        "complaint.case", required=True, ondelete="restrict", index=True, check_company=True,
    )
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    responsible_department_id = fields.Many2one(
        related="case_id.responsible_department_id", string="Responsible Department",
    )
    facts = fields.Html(required=True, help="What happened, as established by the investigation.")
    losses = fields.Text(help="Losses of the customer and of the company.")
    remedy = fields.Selection(REMEDIES, string="Requested Remedy", required=True)
    remedy_detail = fields.Text(string="Remedy Details")
    amount = fields.Monetary(currency_field="currency_id")
    active = fields.Boolean(default=True)

    @api.model_create_multi
    def create(self, vals_list):
        # The number and the approval: only the application's steps set them.
        self._check_workflow_fields(set().union(*vals_list))
        self = self._without_forged_defaults()
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("complaint.major.incident") or _("New")
        with workflow_step(self._name):  # the numbers just given
            return super().create(vals_list)

    def _approval_amount(self):
        return self.amount

    def _approval_solution_types(self):
        return {self.remedy}

    def _approval_urgency(self):
        return self.case_id.urgency

    def _approval_kind(self):
        return self.case_id.kind

    def _approval_department(self):
        return self.case_id.responsible_department_id

    def _approval_label(self):
        return _("Major incident application %s", self.name)

    def action_submit(self):
        self._check_transition("action_submit")
        self._approval_request()
        return True

    def action_print(self):
        return self.env.ref("complaint_handling.action_report_complaint_major_incident").report_action(self)
