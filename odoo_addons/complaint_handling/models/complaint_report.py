from odoo import fields, models, tools

from .complaint_case import CHANNELS, KINDS, SLA_STATUSES, STATES, URGENCIES


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
