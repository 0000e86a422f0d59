from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    complaint_retention_days = fields.Integer(
        string="Complaint Retention (days)", default=365,
        help="Ended complaint cases cannot be deleted before this many days have passed.",
    )
    complaint_overdue_working_days = fields.Integer(
        string="Complaint Overdue After (working days)", default=7,
        help="Any complaint still open after this many working days is overdue.",
    )
    complaint_at_risk_ratio = fields.Float(
        string="Complaint At-Risk Threshold", default=0.2,
        help="A case is at risk when less than this share of its time limit remains.",
    )
    complaint_cs_department_id = fields.Many2one(
        "hr.department", string="Customer Service Department", check_company=True,
        help="Its head hears of every breached urgent complaint.",
    )

    complaint_follow_up_days = fields.Integer(
        string="Complaint Follow-up After (days)", default=3,
        help="The follow-up call is planned this many days after the written reply.",
    )
    complaint_follow_up_attempts = fields.Integer(
        string="Complaint Follow-up Attempts", default=3,
        help="After this many unanswered follow-up attempts the customer counts as unreachable.",
    )
    complaint_reopen_days = fields.Integer(
        string="Complaint Reopen Window (days)", default=30,
        help="A customer who writes again within this many days after closing reopens the case.",
    )

    _sql_constraints = [
        ("complaint_retention_days_positive", "CHECK(complaint_retention_days >= 0)",
         "The complaint retention period cannot be negative."),
        ("complaint_at_risk_ratio_range", "CHECK(complaint_at_risk_ratio >= 0 AND complaint_at_risk_ratio <= 1)",
         "The at-risk threshold is a share between 0 and 1."),
    ]

    @api.constrains("complaint_cs_department_id")
    def _check_complaint_cs_department_company(self):
        # res.company does not check its relations automatically (_check_company_auto).
        self._check_company(["complaint_cs_department_id"])
