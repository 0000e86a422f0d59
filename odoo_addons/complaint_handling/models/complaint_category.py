from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


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

    @api.constrains("code", "company_id")
    def _check_code_unique_per_company(self):
        """A code designates one category for each company: the company's own
        categories and the shared ones (no company) together. Two companies
        may each have their own category with the same code."""
        Category = self.sudo().with_context(active_test=False)
        for category in self:
            domain = [("id", "!=", category.id), ("code", "=", category.code)]
            if category.company_id:
                domain.append(("company_id", "in", [False, category.company_id.id]))
            clash = Category.search(domain, limit=1)
            if clash:
                raise ValidationError(
                    _(
                        "The category code %(code)s is already used by the category %(other)s (%(scope)s): "
                        "the categories a company can use need different codes.",
                        code=category.code,
                        other=clash.name,
                        scope=clash.company_id.name or _("shared by all companies"),
                    )
                )
