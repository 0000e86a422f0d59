from odoo import api, models


class ComplaintCase(models.Model):
    """A case links only records of its own company (or shared ones): every
    relation marked ``check_company`` is checked on create and write."""

    _inherit = "complaint.case"
    _check_company_auto = True

    @api.depends("category_id")
    def _compute_responsible_department_id(self):
        """A shared category may propose a department of one company: it is
        not proposed to the cases of the other companies."""
        super()._compute_responsible_department_id()
        for case in self:
            department = case.responsible_department_id
            if (
                department
                and department == case.category_id.default_department_id
                and department.company_id
                and department.company_id != case.company_id
            ):
                case.responsible_department_id = False


class ComplaintContactSheet(models.Model):
    _inherit = "complaint.contact.sheet"
    _check_company_auto = True


class ComplaintSolutionLine(models.Model):
    _inherit = "complaint.solution.line"
    _check_company_auto = True


class ComplaintPenaltyNotice(models.Model):
    _inherit = "complaint.penalty.notice"
    _check_company_auto = True
