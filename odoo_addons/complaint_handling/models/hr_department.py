from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models

from .complaint_case import OPEN_STATES

# The dashboard's counters: which cases each one opens.
DASHBOARD_FILTERS = {
    "open": [],
    "unassigned": [("user_id", "=", False)],
    "at_risk": [("sla_status", "=", "at_risk")],
    "overdue": [("is_overdue", "=", True)],
    "urgent": [("urgency", "=", "urgent")],
}


class HrDepartment(models.Model):
    """The complaint overview: one card per responsible department, like the
    helpdesk team dashboards. Counters follow the user's access to cases and
    take a handful of grouped queries for all cards together."""

    _inherit = "hr.department"

    complaint_case_ids = fields.One2many("complaint.case", "responsible_department_id", string="Complaints")
    complaint_open_count = fields.Integer(string="Open Complaints", compute="_compute_complaint_dashboard")
    complaint_unassigned_count = fields.Integer(string="Unassigned", compute="_compute_complaint_dashboard")
    complaint_at_risk_count = fields.Integer(string="At Risk", compute="_compute_complaint_dashboard")
    complaint_overdue_count = fields.Integer(string="Overdue", compute="_compute_complaint_dashboard")
    complaint_urgent_count = fields.Integer(string="Urgent", compute="_compute_complaint_dashboard")
    complaint_month_count = fields.Integer(string="This Month", compute="_compute_complaint_dashboard")
    complaint_last_month_count = fields.Integer(string="Last Month", compute="_compute_complaint_dashboard")
    complaint_sla_met_rate = fields.Float(
        string="SLA Met Rate (%)", compute="_compute_complaint_dashboard",
        help="Cases received this month whose result is known (met or breached): the share met.",
    )
    complaint_sla_known_count = fields.Integer(
        string="Results Known", compute="_compute_complaint_dashboard",
        help="Cases received this month whose result is known; without any, the rate reads '—'.",
    )

    @api.depends("complete_name", "name")
    @api.depends_context("lang", "hierarchical_naming")
    def _compute_display_name(self):
        """The department's path in the reader's language: the stored
        complete name is written in one language only, so lists and cards
        (which show the translated name) would name a department differently."""
        if not self.env.context.get("hierarchical_naming", True):
            return super()._compute_display_name()
        for department in self:
            if not department.id or not department.parent_path:
                department.display_name = department.name or department.complete_name
                continue
            chain = self.sudo().browse([int(i) for i in department.parent_path.split("/") if i])
            department.display_name = " / ".join(d.name or "" for d in chain)

    @api.model
    def _complaint_month_starts(self):
        today = fields.Date.context_today(self)
        this_month = datetime.combine(today.replace(day=1), time.min)
        return this_month - relativedelta(months=1), this_month, this_month + relativedelta(months=1)

    @api.depends_context("uid", "tz")
    def _compute_complaint_dashboard(self):
        Case = self.env["complaint.case"]
        by_department = "responsible_department_id"
        counters = {department: dict.fromkeys(DASHBOARD_FILTERS, 0) for department in self}
        open_domain = [(by_department, "in", self.ids), ("state", "in", OPEN_STATES)]
        for department, sla_status, urgency, overdue, count in Case._read_group(
            open_domain, [by_department, "sla_status", "urgency", "is_overdue"], ["__count"],
        ):
            figures = counters[department]
            figures["open"] += count
            figures["at_risk"] += count if sla_status == "at_risk" else 0
            figures["overdue"] += count if overdue else 0
            figures["urgent"] += count if urgency == "urgent" else 0
        for department, count in Case._read_group(
            open_domain + DASHBOARD_FILTERS["unassigned"], [by_department], ["__count"],
        ):
            counters[department]["unassigned"] = count
        last_month, this_month, next_month = self._complaint_month_starts()
        months = {}
        sla = {}
        for department, month, sla_status, count in Case._read_group(
            [(by_department, "in", self.ids), ("received_date", ">=", last_month),
             ("received_date", "<", next_month), ("state", "!=", "cancelled")],
            [by_department, "received_date:month", "sla_status"], ["__count"],
        ):
            key = "this" if (month.year, month.month) == (this_month.year, this_month.month) else "last"
            months[department, key] = months.get((department, key), 0) + count
            if key == "this" and sla_status in ("met", "breached"):
                sla.setdefault(department, {"met": 0, "breached": 0})[sla_status] += count
        for department in self:
            figures = counters[department]
            known = sla.get(department, {"met": 0, "breached": 0})
            total = known["met"] + known["breached"]
            department.update({
                "complaint_open_count": figures["open"],
                "complaint_unassigned_count": figures["unassigned"],
                "complaint_at_risk_count": figures["at_risk"],
                "complaint_overdue_count": figures["overdue"],
                "complaint_urgent_count": figures["urgent"],
                "complaint_month_count": months.get((department, "this"), 0),
                "complaint_last_month_count": months.get((department, "last"), 0),
                "complaint_sla_met_rate": 100.0 * known["met"] / total if total else 0.0,
                "complaint_sla_known_count": total,
            })

    def action_open_complaints(self):
        """The case list behind a counter of the card (context `complaint_filter`)."""
        self.ensure_one()
        which = self.env.context.get("complaint_filter", "open")
        action = self.env["ir.actions.act_window"]._for_xml_id("complaint_handling.complaint_case_action")
        domain = [("responsible_department_id", "=", self.id)]
        if which in ("this_month", "last_month"):
            last_month, this_month, next_month = self._complaint_month_starts()
            start, stop = (this_month, next_month) if which == "this_month" else (last_month, this_month)
            domain += [("received_date", ">=", start), ("received_date", "<", stop)]
        else:
            domain += [("state", "in", OPEN_STATES)] + DASHBOARD_FILTERS.get(which, [])
        action.update({
            "domain": domain,
            "context": {"default_responsible_department_id": self.id},
            "name": _("Complaints of %s", self.display_name),
            "view_mode": "list,kanban,form",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
        })
        return action
