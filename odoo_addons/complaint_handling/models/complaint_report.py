from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models, tools

from .complaint_case import CHANNELS, KINDS, OPEN_STATES, SLA_STATUSES, STATES, URGENCIES

# Number of rows in the top-N tables of the monthly report.
TOP = 10
# Overdue cases listed by name in the monthly report (the oldest first); the
# report gives their total, and the case list's "Overdue" filter shows all.
OVERDUE_LISTED = 50
# Context key of a document rendered once for several readers (the monthly
# report e-mailed by the scheduled action, meeting minutes sent to the
# attendees): its per-case rows give numbers and categories, never subjects.
MAILING_KEY = "complaint_report_mailing"


def month_bounds(day):
    """(first day, first day of the next month) of the month of `day`, as dates."""
    start = day.replace(day=1)
    return start, start + relativedelta(months=1)


class ComplaintReport(models.Model):
    """Complaint analysis: one row per case, from an SQL view, so the pivot
    and the graph aggregate in the database. Rates are 0-100 per case and
    averaged; a case whose result is not known yet (SLA still running, no
    first response yet) is left out of the average (NULL)."""

    _name = "complaint.report"
    _description = "Complaint Analysis"
    _auto = False
    _rec_name = "name"
    _order = "received_date desc, id desc"
    # What the view reads: flushed before every search of the report.
    _depends = {
        "complaint.case": [
            "name", "received_date", "company_id", "category_id", "kind", "channel", "product_id",
            "partner_id", "responsible_department_id", "user_id", "urgency", "state", "sla_status",
            "quality_related", "is_recurring", "is_overdue", "close_date", "response_deadline",
            "first_response_date", "response_time_hours", "close_working_days", "reopen_count",
            "satisfaction_rating", "satisfaction_score", "amount_claimed",
        ],
        "complaint.solution.line": ["case_id", "solution_type", "amount_company"],
        "complaint.contact.sheet": ["case_id", "state", "verification_round"],
    }

    case_id = fields.Many2one("complaint.case", string="Complaint", readonly=True)
    name = fields.Char(string="Number", readonly=True)
    received_date = fields.Datetime(string="Received", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    category_id = fields.Many2one("complaint.category", string="Category", readonly=True)
    kind = fields.Selection(KINDS, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    responsible_department_id = fields.Many2one("hr.department", string="Responsible Department", readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible Person", readonly=True)
    urgency = fields.Selection(URGENCIES, readonly=True)
    state = fields.Selection(STATES, string="Status", readonly=True)
    sla_status = fields.Selection(SLA_STATUSES, string="SLA Status", readonly=True)
    quality_related = fields.Boolean(readonly=True)
    is_recurring = fields.Boolean(string="Recurring", readonly=True)
    is_overdue = fields.Boolean(string="Overdue", readonly=True)
    close_date = fields.Datetime(string="Ended On", readonly=True)

    case_count = fields.Integer(string="# Cases", readonly=True, aggregator="sum")
    sla_met_rate = fields.Float(
        string="SLA Met Rate (%)", readonly=True, aggregator="avg",
        help="Share of cases whose time limits are met, among the cases whose result is known "
        "(met, or breached).",
    )
    first_response_met_rate = fields.Float(
        string="First Response Met Rate (%)", readonly=True, aggregator="avg",
        help="Share of cases answered within the response time limit, among the cases answered "
        "or past that limit.",
    )
    response_time_hours = fields.Float(string="Hours to First Response", readonly=True, aggregator="avg")
    close_working_days = fields.Float(
        string="Working Days to Close", readonly=True, aggregator="avg",
        help="On the company's working calendar: weekends and public holidays do not count.",
    )
    reopen_rate = fields.Float(
        string="Reopen Rate (%)", readonly=True, aggregator="avg",
        help="Share of ended (or reopened) cases that were reopened at least once.",
    )
    reopen_count = fields.Integer(string="Reopenings", readonly=True, aggregator="sum")
    satisfaction_score = fields.Float(
        string="Average Satisfaction", readonly=True, aggregator="avg",
        help="The customers' satisfaction from 1 (very dissatisfied) to 5 (very satisfied).",
    )
    amount_claimed = fields.Monetary(readonly=True, aggregator="sum")
    compensation_amount = fields.Monetary(string="Compensation", readonly=True, aggregator="sum")
    refund_amount = fields.Monetary(string="Refunds", readonly=True, aggregator="sum")
    with_contact_sheet = fields.Integer(
        string="# Cases with a Contact Sheet", readonly=True, aggregator="sum",
    )
    contact_sheet_rounds = fields.Integer(
        string="Effectiveness Rounds", readonly=True, aggregator="sum",
        help="Effectiveness checks of the case's contact sheets: one per sheet, one more for each "
        "check that found the action not effective.",
    )

    # ------------------------------------------------------------------
    # The view
    # ------------------------------------------------------------------
    def _select(self):
        return """
            c.id AS id,
            c.id AS case_id,
            c.name AS name,
            c.received_date AS received_date,
            c.company_id AS company_id,
            company.currency_id AS currency_id,
            c.category_id AS category_id,
            c.kind AS kind,
            c.channel AS channel,
            c.product_id AS product_id,
            c.partner_id AS partner_id,
            c.responsible_department_id AS responsible_department_id,
            c.user_id AS user_id,
            c.urgency AS urgency,
            c.state AS state,
            c.sla_status AS sla_status,
            COALESCE(c.quality_related, FALSE) AS quality_related,
            COALESCE(c.is_recurring, FALSE) AS is_recurring,
            COALESCE(c.is_overdue, FALSE) AS is_overdue,
            c.close_date AS close_date,
            1 AS case_count,
            CASE c.sla_status WHEN 'met' THEN 100.0 WHEN 'breached' THEN 0.0 END AS sla_met_rate,
            CASE
                WHEN c.response_deadline IS NULL OR c.state = 'cancelled' THEN NULL
                WHEN c.first_response_date IS NOT NULL THEN
                    CASE WHEN c.first_response_date <= c.response_deadline THEN 100.0 ELSE 0.0 END
                WHEN c.response_deadline < (now() AT TIME ZONE 'UTC') THEN 0.0
            END AS first_response_met_rate,
            CASE WHEN c.first_response_date IS NOT NULL THEN c.response_time_hours END AS response_time_hours,
            CASE WHEN c.state = 'closed' AND c.close_date IS NOT NULL THEN c.close_working_days END
                AS close_working_days,
            CASE
                WHEN COALESCE(c.reopen_count, 0) > 0 THEN 100.0
                WHEN c.state IN ('closed', 'rejected') THEN 0.0
            END AS reopen_rate,
            COALESCE(c.reopen_count, 0) AS reopen_count,
            CASE WHEN c.satisfaction_rating IS NOT NULL THEN c.satisfaction_score END
                AS satisfaction_score,
            COALESCE(c.amount_claimed, 0.0) AS amount_claimed,
            COALESCE(solution.compensation_amount, 0.0) AS compensation_amount,
            COALESCE(solution.refund_amount, 0.0) AS refund_amount,
            CASE WHEN sheet.sheet_count > 0 THEN 1 ELSE 0 END AS with_contact_sheet,
            COALESCE(sheet.rounds, 0) AS contact_sheet_rounds
        """

    def _from(self):
        return """
            complaint_case c
            JOIN res_company company ON company.id = c.company_id
            LEFT JOIN (
                SELECT case_id,
                       SUM(amount_company) FILTER (WHERE solution_type = 'compensation') AS compensation_amount,
                       SUM(amount_company) FILTER (WHERE solution_type = 'refund') AS refund_amount
                  FROM complaint_solution_line
                 GROUP BY case_id
            ) solution ON solution.case_id = c.id
            LEFT JOIN (
                SELECT case_id, COUNT(*) AS sheet_count, SUM(verification_round) AS rounds
                  FROM complaint_contact_sheet
                 WHERE state != 'cancelled'
                 GROUP BY case_id
            ) sheet ON sheet.case_id = c.id
        """

    def _where(self):
        # Archived cases (past their retention) still count in the statistics.
        return "TRUE"

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS "
            f"(SELECT {self._select()} FROM {self._from()} WHERE {self._where()})"
        )

    # ------------------------------------------------------------------
    # Monthly figures (PDF, XLSX, scheduled e-mail)
    # ------------------------------------------------------------------
    @api.model
    def _month_domain(self, company, month_start, extra=None):
        start, stop = month_bounds(month_start)
        return [
            ("company_id", "=", company.id),
            ("received_date", ">=", datetime.combine(start, time.min)),
            ("received_date", "<", datetime.combine(stop, time.min)),
            ("state", "!=", "cancelled"),
        ] + (extra or [])

    @api.model
    def _count(self, domain):
        return self._read_group(domain, [], ["__count"])[0][0]

    @api.model
    def _breakdown(self, domain, field, limit=None):
        rows = self._read_group(domain, [field], ["__count"], order="__count desc")
        result = []
        for value, count in rows[:limit] if limit else rows:
            if self._fields[field].type == "selection":
                label = dict(self._fields[field]._description_selection(self.env)).get(value) or _("Undefined")
            else:
                label = value.display_name if value else _("Undefined")
            result.append({"label": label, "count": count})
        return result

    @staticmethod
    def _trend(current, previous):
        """Change against `previous`, in percent, or None when there is nothing to compare."""
        return round((current - previous) * 100.0 / previous, 1) if previous else None

    @api.model
    def _shows_case_content(self):
        """Whether per-case rows may show a case's subject: only in a report
        read by the user it is rendered as, who may read those cases; not
        when rendered as superuser (the scheduled e-mail) or for mailing."""
        return not self.env.su and not self.env.context.get(MAILING_KEY)

    @api.model
    def _part_figures(self, company, month_start, extra, title):
        domain = self._month_domain(company, month_start, extra)
        count = self._count(domain)
        previous = self._count(self._month_domain(company, month_start - relativedelta(months=1), extra))
        last_year = self._count(self._month_domain(company, month_start - relativedelta(years=1), extra))
        [[sla, first_response, hours, days, satisfaction, reopen]] = self._read_group(
            domain, [], ["sla_met_rate:avg", "first_response_met_rate:avg", "response_time_hours:avg",
                         "close_working_days:avg", "satisfaction_score:avg", "reopen_rate:avg"],
        )
        sla_counts = dict(self._read_group(domain + [("sla_status", "in", ("met", "breached"))],
                                           ["sla_status"], ["__count"]))
        recurring = [
            {"product": product.display_name, "category": category.display_name, "count": cases}
            for product, category, cases in self._read_group(
                domain + [("is_recurring", "=", True)], ["product_id", "category_id"], ["__count"],
                order="__count desc", limit=TOP,
            )
        ]
        stop = datetime.combine(month_bounds(month_start)[1], time.min)
        overdue_domain = [("company_id", "=", company.id), ("state", "in", OPEN_STATES), ("is_overdue", "=", True),
                          ("received_date", "<", stop)] + extra
        # As the reading user: only the cases they may read.
        overdue = self.env["complaint.case"].search(overdue_domain, order="received_date", limit=OVERDUE_LISTED)
        content = self._shows_case_content()
        return {
            "title": title,
            "count": count,
            "previous": previous,
            "last_year": last_year,
            "trend_previous": self._trend(count, previous),
            "trend_last_year": self._trend(count, last_year),
            "by_category": self._breakdown(domain, "category_id"),
            "by_channel": self._breakdown(domain, "channel"),
            "by_product": self._breakdown(domain, "product_id", limit=TOP),
            "by_department": self._breakdown(domain, "responsible_department_id"),
            "sla_met": sla_counts.get("met", 0),
            "sla_breached": sla_counts.get("breached", 0),
            "sla_met_rate": sla,
            "first_response_met_rate": first_response,
            "response_time_hours": hours,
            "close_working_days": days,
            "satisfaction": satisfaction,
            "reopen_rate": reopen,
            "recurring": recurring,
            "overdue_count": self.env["complaint.case"].search_count(overdue_domain),
            "overdue": [
                {"name": c.name, "category": c.category_id.display_name or "",
                 "subject": (c.subject or "") if content else "", "received": c.received_date,
                 "department": c.responsible_department_id.display_name or "",
                 "user": c.user_id.name or "", "deadline": c.resolve_deadline}
                for c in overdue
            ],
        }

    @api.model
    def _monthly_figures(self, company, month_start):
        """Everything the monthly report shows for the month of `month_start`:
        QA's part (quality complaints) and the other units' part separately,
        then corrective actions, compensation paid and reward/penalty notices."""
        month_start, month_stop = month_bounds(month_start)
        total = self._count(self._month_domain(company, month_start))
        previous = self._count(self._month_domain(company, month_start - relativedelta(months=1)))
        last_year = self._count(self._month_domain(company, month_start - relativedelta(years=1)))
        return {
            "company": company,
            "month_start": month_start,
            "month_label": month_start.strftime("%Y-%m"),
            "case_content": self._shows_case_content(),
            "total": total,
            "previous": previous,
            "last_year": last_year,
            "trend_previous": self._trend(total, previous),
            "trend_last_year": self._trend(total, last_year),
            "parts": [
                self._part_figures(company, month_start, [("quality_related", "=", True)],
                                   _("Quality Complaints (Quality Assurance)")),
                self._part_figures(company, month_start, [("quality_related", "=", False)],
                                   _("Other Complaints (Other Units)")),
            ],
            "actions": self._corrective_actions(company, month_start, month_stop),
            "compensation": self._compensation_paid(company, month_start, month_stop),
            "notices": self._penalty_notices(company, month_start),
        }

    @api.model
    def _corrective_actions(self, company, month_start, month_stop):
        """Contact sheet actions: open at the end of the month, done in it, and
        the sheets found not effective (verification rounds above one)."""
        Action = self.env["complaint.contact.sheet.action"].sudo()
        stop = datetime.combine(month_stop, time.min)
        return {
            "open": Action.search_count([("company_id", "=", company.id), ("state", "=", "todo"),
                                         ("create_date", "<", stop)]),
            "done": Action.search_count([("company_id", "=", company.id), ("state", "=", "done"),
                                         ("date_done", ">=", month_start), ("date_done", "<", month_stop)]),
            "not_effective": self.env["complaint.contact.sheet"].sudo().search_count([
                ("company_id", "=", company.id), ("verification_round", ">", 1),
                ("write_date", ">=", datetime.combine(month_start, time.min)), ("write_date", "<", stop),
            ]),
        }

    @api.model
    def _compensation_paid(self, company, month_start, month_stop):
        """Solution lines with money carried out in the month, by type."""
        Line = self.env["complaint.solution.line"].sudo()
        labels = dict(Line._fields["solution_type"]._description_selection(self.env))
        rows = [
            {"label": labels.get(solution_type, solution_type), "count": count, "amount": amount}
            for solution_type, count, amount in Line._read_group(
                [("company_id", "=", company.id), ("execution_state", "=", "done"),
                 ("execution_date", ">=", month_start), ("execution_date", "<", month_stop),
                 ("solution_type", "in", ("refund", "exchange", "repair", "price_reduction", "compensation"))],
                ["solution_type"], ["__count", "amount_company:sum"],
            )
        ]
        return {"rows": rows, "total": sum(r["amount"] for r in rows)}

    @api.model
    def _penalty_notices(self, company, month_start):
        """Reward/penalty notices issued for the month reviewed."""
        Notice = self.env["complaint.penalty.notice"].sudo()
        states = dict(Notice._fields["state"]._description_selection(self.env))
        notices = Notice.search([
            ("company_id", "=", company.id),
            ("review_month", ">=", month_start),
            ("review_month", "<", month_start + relativedelta(months=1)),
            ("state", "not in", ("draft", "cancelled")),
        ], order="name")
        return [
            {"name": n.name, "period": n.period or "", "state": states.get(n.state, n.state),
             "penalty": n.amount_penalty, "reward": n.amount_reward}
            for n in notices
        ]
