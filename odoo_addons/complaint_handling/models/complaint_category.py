from odoo import fields, models


class ComplaintCategory(models.Model):
    _name = "complaint.category"
    _description = "Complaint Category"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Stable key used by the intake API and web forms (e.g. product_quality).",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    quality_related = fields.Boolean(
        help="New cases in this category are routed to quality assurance by default.",
    )
    default_department_id = fields.Many2one(
        "hr.department",
        string="Default Responsible Department",
        help="Department proposed as main responsible unit for new cases of this category.",
    )
    company_id = fields.Many2one("res.company")

    _sql_constraints = [
        ("code_company_uniq", "unique(code, company_id)", "The category code must be unique."),
    ]
