from odoo import api, fields, models

from .complaint_solution_line import SOLUTION_TYPES


class ComplaintSolutionType(models.Model):
    """The solution types (refund, exchange, ...) as records, for choosing
    several as tags (an approval rule's condition). The list is the solution
    line's selection; the name is its label, in the reader's language."""

    _name = "complaint.solution.type"
    _description = "Complaint Solution Type"
    _order = "sequence, id"
    _rec_names_search = ["code"]

    code = fields.Selection(SOLUTION_TYPES, required=True, readonly=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(compute="_compute_name", search="_search_name")

    _sql_constraints = [("code_uniq", "unique(code)", "Each solution type exists once.")]

    @api.depends("code")
    @api.depends_context("lang")
    def _compute_name(self):
        labels = dict(self._fields["code"]._description_selection(self.env))
        for solution_type in self:
            solution_type.name = labels.get(solution_type.code, solution_type.code)

    def _search_name(self, operator, value):
        labels = dict(self._fields["code"]._description_selection(self.env))
        if operator in ("ilike", "like", "=ilike", "=like") and isinstance(value, str):
            codes = [code for code, label in labels.items() if value.lower() in label.lower() or value.lower() in code]
            return [("code", "in", codes)]
        if operator in ("=", "!=", "in", "not in"):
            wanted = value if isinstance(value, (list, tuple)) else [value]
            codes = [code for code, label in labels.items() if label in wanted]
            return [("code", "in" if operator in ("=", "in") else "not in", codes)]
        return [("code", operator, value)]
