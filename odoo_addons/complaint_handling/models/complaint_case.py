from collections import defaultdict
from datetime import timedelta

import pytz

from odoo import _, _lt, api, fields, models
from odoo.exceptions import UserError

from ..tools import Transition, working_day_ends, workflow_step
from .complaint_call import source_system_label

CHANNELS = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("fax", "Fax"),
    ("web_form", "Web Form"),
    ("online_chat", "Online Chat"),
    ("social_media", "Social Media"),
    ("walk_in", "Walk-in / Visit"),
    ("consumer_association", "Consumer Association Transfer"),
    ("dealer_letter", "Dealer Quality Letter"),
    ("repair_report", "Repair Report"),
    ("sales_report", "Sales Staff Report"),
    ("abnormal_return", "Abnormal Return"),
    ("subcontractor", "Subcontractor"),
    ("staff", "Staff"),
]
INTERNAL_CHANNELS = (
    "dealer_letter",
    "repair_report",
    "sales_report",
    "abnormal_return",
    "subcontractor",
    "staff",
)
URGENCIES = [
    ("urgent", "Urgent"),
    ("important", "Important"),
    ("general", "General"),
]
KINDS = [
    ("appeal", "Appeal (return, exchange or repair)"),
    ("claim", "Claim (compensation)"),
    ("market", "Market Complaint (not caused by quality)"),
]
EXPECTATIONS = [
    ("refund", "Refund"),
    ("exchange", "Exchange"),
    ("repair", "Repair"),
    ("price_reduction", "Price Reduction"),
    ("compensation", "Compensation"),
    ("apology", "Apology / Explanation"),
    ("other", "Other"),
]
VERDICTS = [
    ("company", "Company"),
    ("customer", "Customer Misunderstanding"),
    ("supplier", "Supplier"),
    ("carrier", "Carrier"),
    ("undetermined", "Undetermined"),
]
NOT_OUR_VERDICTS = ("customer", "supplier", "carrier")
CUSTOMER_TYPES = [
    ("analytical", "Analytical"),
    ("amiable", "Amiable"),
    ("expressive", "Expressive"),
    ("driver", "Driver"),
]
CUSTOMER_TYPE_TIPS = {
    "analytical": _lt(
        "Analytical: give facts, figures and documents; be precise and patient, "
        "and confirm every detail in writing."
    ),
    "amiable": _lt(
        "Amiable: be warm and reassuring, avoid pressure, and ask explicitly "
        "whether they agree with the plan."
    ),
    "expressive": _lt(
        "Expressive: let them tell the whole story, show empathy, and follow "
        "up personally once it is solved."
    ),
    "driver": _lt(
        "Driver: be brief and direct, offer clear options and a decision quickly; "
        "do not over-explain."
    ),
}
STATES = [
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
    ("investigating", "Investigating"),
    ("solution_proposed", "Solution Proposed"),
    ("in_execution", "In Execution"),
    ("replied", "Replied"),
    ("follow_up", "Follow-up"),
    ("closed", "Closed"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = (
    "new",
    "acknowledged",
    "investigating",
    "solution_proposed",
    "in_execution",
    "replied",
    "follow_up",
)
END_STATES = ("closed", "rejected", "cancelled")
SLA_STATUSES = [
    ("on_track", "On Track"),
    ("at_risk", "At Risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]
CANCEL_REASONS = [
    ("duplicate", "Duplicate"),
    ("spam", "Spam"),
    ("withdrawn", "Withdrawn by the Customer"),
]

GROUP_USER = "complaint_handling.group_complaint_user"
GROUP_OFFICER = "complaint_handling.group_complaint_officer"
GROUP_DEPARTMENT_HEAD = "complaint_handling.group_complaint_department_head"
GROUP_INTAKE = "complaint_handling.group_complaint_intake"
# Channels whose cases are acknowledged by e-mail at once.
ACKNOWLEDGED_CHANNELS = ("email", "web_form")


class ComplaintCase(models.Model):
    _name = "complaint.case"
    _description = "Complaint Case"
    # The approval mixin brings the workflow mixin (state machine and guards).
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin", "complaint.approval.mixin"]
    _order = "received_date desc, id desc"
    # A case links only records of its own company (or shared ones).
    _check_company_auto = True

    # The state machine of a case: every step, who may take it, from which
    # status and what must be filled first. The methods live with their
    # feature (customer communication, solution, follow-up); their checks
    # live here.
    _transitions = {
        # Acknowledge also tells the customer; again later only when that failed.
        "action_acknowledge": Transition(
            _lt("acknowledge"), ("new", "acknowledged", "investigating"), (GROUP_USER,),
            required=("category_id", "urgency", "kind"),
        ),
        "action_start_investigation": Transition(
            _lt("start the investigation of"), ("acknowledged",), (GROUP_USER,),
            required=("responsible_department_id", "user_id"),
        ),
        "action_propose_solution": Transition(
            _lt("propose a solution for"), ("investigating",), (GROUP_USER,),
            required=("verdict", "solution_description"),
        ),
        "action_approval_request": Transition(
            _lt("request the approval of the solution of"), ("investigating", "solution_proposed"),
            (GROUP_USER,), required=("verdict", "solution_description"),
        ),
        "action_approval_approve": Transition(
            _lt("approve the solution of"), ("investigating", "solution_proposed"),
            party="_approval_is_current_reviewer",
        ),
        "action_customer_agreed": Transition(
            _lt("record the customer's agreement for"), ("solution_proposed",), (GROUP_USER,),
        ),
        "action_customer_declined": Transition(
            _lt("record the customer's refusal for"), ("solution_proposed",), (GROUP_USER,),
            required=("customer_decline_reason",),
        ),
        "action_new_major_incident": Transition(
            _lt("apply for a major incident remedy for"),
            ("investigating", "solution_proposed", "in_execution"), (GROUP_USER,),
        ),
        "action_start_execution": Transition(
            _lt("start carrying out the solution of"), ("solution_proposed",), (GROUP_USER,),
        ),
        "action_back_to_investigation": Transition(
            _lt("send back to investigation"), ("solution_proposed", "in_execution"), (GROUP_USER,),
        ),
        "action_mark_replied": Transition(
            _lt("record the written reply of"), ("in_execution",), (GROUP_USER,),
            required=("reply_summary",),
        ),
        "action_start_follow_up": Transition(
            _lt("start the follow-up of"), ("replied",), (GROUP_USER,),
        ),
        "action_record_follow_up": Transition(
            _lt("record the follow-up of"), ("replied", "follow_up"), (GROUP_USER,),
        ),
        "action_waive_follow_up": Transition(
            _lt("close without the follow-up"), ("replied", "follow_up"), (GROUP_OFFICER,),
            required=("follow_up_waiver_reason",),
        ),
        "action_close": Transition(
            _lt("close"), ("follow_up",), (GROUP_OFFICER, GROUP_DEPARTMENT_HEAD),
            required=("resolution_note",),
        ),
        "action_reject": Transition(
            _lt("reject"), ("acknowledged", "investigating", "solution_proposed"),
            (GROUP_OFFICER, GROUP_DEPARTMENT_HEAD), required=("verdict", "rejection_explanation"),
        ),
        "action_cancel": Transition(
            _lt("cancel"), ("new", "acknowledged", "investigating"), (GROUP_OFFICER,),
            required=("cancel_reason",),
        ),
        "action_reopen": Transition(
            _lt("reopen"), ("closed", "rejected"), (GROUP_OFFICER,), required=("reopen_reason",),
        ),
    }
    _rec_names_search = ["name", "subject", "customer_name"]

    # ------------------------------------------------------------------
    # Identity
    # ------------------------------------------------------------------
    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, index=True,
        default=lambda self: _("New"),
    )
    subject = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        STATES, default="new", required=True, readonly=True, copy=False,
        tracking=True, index=True, group_expand="_group_expand_states",
    )
    channel = fields.Selection(CHANNELS, required=True, default="phone", tracking=True)
    is_internal_source = fields.Boolean(string="Internal Source", compute="_compute_is_internal_source")
    source_system = fields.Char(
        readonly=True, copy=False,
        help="System the case came from through the intake API (e.g. twilio, typeform).",
    )
    source_system_label = fields.Char(string="Received Through", compute="_compute_source_system_label")
    external_ref = fields.Char(
        string="External Reference", readonly=True, copy=False,
        help="Identifier of the case in the source system; intake is idempotent on it.",
    )
    received_date = fields.Datetime(
        string="Received", required=True, default=fields.Datetime.now, tracking=True
    )

    # ------------------------------------------------------------------
    # Customer
    # ------------------------------------------------------------------
    partner_id = fields.Many2one(
        "res.partner", string="Customer", tracking=True, index=True, check_company=True,
    )
    customer_name = fields.Char(help="Name as given by the customer.")
    customer_phone = fields.Char(help="Phone as given by the customer.")
    customer_phone_sanitized = fields.Char(
        string="Customer Phone (E.164)", compute="_compute_customer_phone_sanitized",
        store=True, index="btree_not_null",
    )
    customer_email = fields.Char(help="Email as given by the customer.")
    customer_address = fields.Text(help="Address as given by the customer.")
    partner_match_note = fields.Char(
        string="Customer Matching", readonly=True,
        help="How the customer was (or was not) matched to a contact at intake.",
    )
    # The chosen contact's phone and e-mail, for the agent on the call.
    partner_phone = fields.Char(related="partner_id.phone", string="Contact Phone")
    partner_email = fields.Char(related="partner_id.email", string="Contact E-mail")
    customer_type = fields.Selection(CUSTOMER_TYPES)
    customer_type_tip = fields.Char(compute="_compute_customer_type_tip")

    # ------------------------------------------------------------------
    # What happened
    # ------------------------------------------------------------------
    sale_order_id = fields.Many2one(
        "sale.order", string="Sales Order", index="btree_not_null", tracking=True, check_company=True,
        domain="[('partner_id', 'child_of', partner_id)] if partner_id else []",
    )
    sale_line_ids = fields.Many2many(
        "sale.order.line", string="Order Lines Concerned", check_company=True,
        domain="[('order_id', '=', sale_order_id)]",
    )
    product_id = fields.Many2one(
        "product.product", string="Main Product", compute="_compute_product_id",
        store=True, readonly=False, index="btree_not_null", check_company=True,
    )
    purchase_date = fields.Date(compute="_compute_purchase_date", store=True, readonly=False)
    description = fields.Html(string="What Happened")
    incident_date = fields.Datetime(string="When")
    incident_location = fields.Char(string="Where")
    staff_involved = fields.Char()
    impact = fields.Text()
    expectation = fields.Selection(EXPECTATIONS, string="Customer Expects")
    amount_claimed = fields.Monetary(currency_field="currency_id")

    # ------------------------------------------------------------------
    # Classification and responsibility
    # ------------------------------------------------------------------
    category_id = fields.Many2one("complaint.category", tracking=True, index=True, check_company=True)
    kind = fields.Selection(KINDS, tracking=True)
    urgency = fields.Selection(URGENCIES, required=True, default="general", tracking=True)
    quality_related = fields.Boolean(
        compute="_compute_quality_related", store=True, readonly=False, tracking=True,
        help="Quality, specification or quantity problems are routed to quality assurance.",
    )
    responsible_department_id = fields.Many2one(
        "hr.department", string="Responsible Department", tracking=True, index=True,
        compute="_compute_responsible_department_id", store=True, readonly=False, check_company=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible Person", tracking=True, index=True, check_company=True,
        domain="[('share', '=', False)]",
    )
    co_department_ids = fields.Many2many(
        "hr.department", "complaint_case_co_department_rel", "case_id", "department_id",
        string="Co-handling Departments", check_company=True,
    )
    verdict = fields.Selection(VERDICTS, string="Responsibility", tracking=True)
    is_my_department = fields.Boolean(
        string="My Department", compute="_compute_is_my_department", search="_search_is_my_department",
        help="The case's responsible or co-handling department is one of mine.",
    )

    # ------------------------------------------------------------------
    # Handling
    # ------------------------------------------------------------------
    solution_description = fields.Html(string="Proposed Solution")
    reply_summary = fields.Html(string="Written Reply")
    resolution_note = fields.Text(string="Closing Summary")
    rejection_explanation = fields.Html(
        string="Written Explanation",
        help="The written explanation sent to the customer when the complaint is "
        "not the company's responsibility.",
    )
    cancel_reason = fields.Selection(CANCEL_REASONS)
    cancel_note = fields.Char(string="Cancellation Note")
    reopen_reason = fields.Char()
    reopen_count = fields.Integer(readonly=True, copy=False)
    possible_duplicate_of_id = fields.Many2one(
        "complaint.case", string="Possible Duplicate Of", readonly=True, copy=False,
        index="btree_not_null", check_company=True,
    )
    call_ids = fields.One2many("complaint.call", "case_id", string="Calls")
    call_count = fields.Integer(compute="_compute_call_count")

    # ------------------------------------------------------------------
    # Milestones
    # ------------------------------------------------------------------
    first_response_date = fields.Datetime(readonly=True, copy=False)
    resolved_date = fields.Datetime(
        readonly=True, copy=False,
        help="When the customer got the written result (reply or explanation).",
    )
    close_date = fields.Datetime(
        string="Ended On", readonly=True, copy=False, index=True,
        help="When the case was closed, rejected or cancelled; retention counts from it.",
    )

    # ------------------------------------------------------------------
    # SLA
    # ------------------------------------------------------------------
    sla_response_policy_id = fields.Many2one(
        "complaint.sla.policy", string="Response Policy", compute="_compute_sla_deadlines", store=True,
        check_company=True,
    )
    sla_resolve_policy_id = fields.Many2one(
        "complaint.sla.policy", string="Resolution Policy", compute="_compute_sla_deadlines", store=True,
        check_company=True,
    )
    response_deadline = fields.Datetime(compute="_compute_sla_deadlines", store=True)
    resolve_deadline = fields.Datetime(
        compute="_compute_sla_deadlines", store=True, index=True, tracking=True,
    )
    overdue_deadline = fields.Datetime(
        compute="_compute_sla_deadlines", store=True,
        help="After this many working days any open case is overdue, whatever its policy.",
    )
    sla_status = fields.Selection(
        SLA_STATUSES, string="SLA Status", compute="_compute_sla_status", store=True,
        index=True, tracking=True,
    )
    is_overdue = fields.Boolean(string="Overdue", compute="_compute_sla_status", store=True, index=True)
    sla_escalated_date = fields.Datetime(string="Escalated On", readonly=True, copy=False)
    response_time_hours = fields.Float(
        string="Hours to First Response", compute="_compute_durations", store=True,
        aggregator="avg",
    )
    close_working_days = fields.Float(
        string="Working Days to Close", compute="_compute_durations", store=True,
        aggregator="avg",
    )
    close_hours = fields.Float(
        string="Hours to Close", compute="_compute_durations", store=True, aggregator="avg",
    )

    _sql_constraints = [
        (
            "external_ref_uniq",
            "unique(source_system, external_ref)",
            "A case with this external reference already exists for this source system.",
        ),
        ("amount_claimed_positive", "CHECK(amount_claimed >= 0)", "The amount claimed cannot be negative."),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    def _group_expand_states(self, states, domain):
        return [key for key, _label in STATES]

    @api.depends("channel")
    def _compute_is_internal_source(self):
        for case in self:
            case.is_internal_source = case.channel in INTERNAL_CHANNELS

    @api.depends("customer_phone", "company_id")
    def _compute_customer_phone_sanitized(self):
        for case in self:
            case.customer_phone_sanitized = case._sanitize_phone(case.customer_phone)

    @api.depends("customer_type")
    def _compute_customer_type_tip(self):
        for case in self:
            tip = CUSTOMER_TYPE_TIPS.get(case.customer_type)
            case.customer_type_tip = tip._translate(self.env.lang or "en_US") if tip else False

    @api.depends("sale_line_ids")
    def _compute_product_id(self):
        for case in self:
            if not case.product_id and case.sale_line_ids:
                case.product_id = case.sale_line_ids[0].product_id

    @api.depends("sale_order_id")
    def _compute_purchase_date(self):
        for case in self:
            if not case.purchase_date and case.sale_order_id.date_order:
                case.purchase_date = case.sale_order_id.date_order.date()

    @api.depends("category_id")
    def _compute_quality_related(self):
        for case in self:
            if case.category_id:
                case.quality_related = case.category_id.quality_related

    @api.depends("category_id")
    def _compute_responsible_department_id(self):
        """The category's default department, unless a shared category
        proposes a department of another company."""
        for case in self:
            department = case.category_id.default_department_id
            if case.responsible_department_id or not department:
                continue
            if department.company_id and department.company_id != case.company_id:
                continue
            case.responsible_department_id = department

    def _my_department_ids(self):
        return self.env.user.employee_ids.department_id.ids

    def _compute_is_my_department(self):
        mine = set(self._my_department_ids())
        for case in self:
            departments = case.responsible_department_id | case.co_department_ids
            case.is_my_department = bool(mine & set(departments.ids))

    def _search_is_my_department(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on 'My Department'."))
        mine = self._my_department_ids()
        domain = ["|", ("responsible_department_id", "in", mine), ("co_department_ids", "in", mine)]
        return domain if (operator == "=") == value else ["!"] + domain

    def _compute_call_count(self):
        counts = dict(
            self.env["complaint.call"]._read_group(
                [("case_id", "in", self.ids)], ["case_id"], ["__count"]
            )
        )
        for case in self:
            case.call_count = counts.get(case, 0)

    def _calendar(self):
        self.ensure_one()
        return self.company_id.resource_calendar_id or self.env.ref(
            "resource.resource_calendar_std"
        )

    @api.depends("received_date", "urgency", "category_id", "channel", "company_id")
    def _compute_sla_deadlines(self):
        Policy = self.env["complaint.sla.policy"].sudo()
        # Cases created together (intake) share policies, days of receipt and
        # often the very second: each policy look-up and calendar query once.
        policies, day_ends_of, response_of = {}, {}, {}
        for case in self:
            if not case.received_date:
                case.update(
                    {
                        "sla_response_policy_id": False,
                        "sla_resolve_policy_id": False,
                        "response_deadline": False,
                        "resolve_deadline": False,
                        "overdue_deadline": False,
                    }
                )
                continue
            calendar = case._calendar()
            key = (case.company_id, case.urgency, case.category_id, case.channel)
            if key not in policies:
                policies[key] = Policy._find_for(*key)
            response, resolve = policies[key]
            overdue_days = case.company_id.complaint_overdue_working_days
            count = max(overdue_days, resolve.resolve_days or 0)
            local_day = pytz.utc.localize(case.received_date).astimezone(
                pytz.timezone(calendar.tz or "UTC")
            ).date()
            if (calendar.id, local_day, count) not in day_ends_of:
                day_ends_of[calendar.id, local_day, count] = working_day_ends(calendar, case.received_date, count)
            day_ends = day_ends_of[calendar.id, local_day, count]
            case.sla_response_policy_id = response
            case.sla_resolve_policy_id = resolve
            if response and (response.id, calendar.id, case.received_date) not in response_of:
                response_of[response.id, calendar.id, case.received_date] = response._response_deadline(
                    calendar, case.received_date
                )
            case.response_deadline = (
                response_of[response.id, calendar.id, case.received_date] if response else False
            )
            case.resolve_deadline = (
                resolve._resolve_deadline(calendar, case.received_date, day_ends) if resolve else False
            )
            case.overdue_deadline = day_ends[overdue_days - 1] if overdue_days else False

    @api.depends(
        "state", "response_deadline", "resolve_deadline", "overdue_deadline",
        "first_response_date", "resolved_date",
    )
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for case in self:
            case.sla_status, case.is_overdue = case._sla_status_at(now)

    def _sla_status_at(self, now):
        """(status, overdue) of the case at `now`; see README "SLA clock"."""
        self.ensure_one()
        if self.state == "cancelled" or not self.received_date:
            return False, False
        response_late = self.response_deadline and (
            (self.first_response_date or now) > self.response_deadline
        )
        if self.resolved_date or self.state in END_STATES:
            done = self.resolved_date or self.close_date or now
            resolve_late = self.resolve_deadline and done > self.resolve_deadline
            return ("breached" if response_late or resolve_late else "met"), False
        overdue = bool(self.overdue_deadline and now > self.overdue_deadline)
        resolve_late = bool(self.resolve_deadline and now > self.resolve_deadline)
        if response_late or resolve_late or overdue:
            return "breached", overdue
        ratio = self.company_id.complaint_at_risk_ratio
        windows = [(self.resolve_deadline or self.overdue_deadline)]
        if not self.first_response_date and self.response_deadline:
            windows.append(self.response_deadline)
        for deadline in filter(None, windows):
            total = (deadline - self.received_date).total_seconds()
            if total > 0 and (deadline - now).total_seconds() < ratio * total:
                return "at_risk", False
        return "on_track", False

    @api.depends("received_date", "first_response_date", "close_date", "state")
    def _compute_durations(self):
        for case in self:
            start = case.received_date
            case.response_time_hours = (
                (case.first_response_date - start).total_seconds() / 3600
                if start and case.first_response_date else 0.0
            )
            if start and case.close_date and case.state == "closed":
                case.close_hours = (case.close_date - start).total_seconds() / 3600
                case.close_working_days = case._calendar().get_work_duration_data(
                    start, case.close_date, compute_leaves=True
                )["days"]
            else:
                case.close_hours = case.close_working_days = 0.0

    # ------------------------------------------------------------------
    # ORM: everything create and write of a case enforce and set off
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Status, stamps, number, matching notes: only the server's steps
        # (intake, the e-mail gateway) set them.
        self._check_workflow_fields(set().union(*vals_list))
        self = self._without_forged_defaults()
        sequences = {}  # one look-up of the sequence per company, not per case
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                if company not in sequences:
                    sequences[company] = self.env["ir.sequence"].sudo().search(
                        [("code", "=", "complaint.case"), ("company_id", "in", [company.id, False])],
                        order="company_id", limit=1,
                    )
                sequence = sequences[company]
                vals["name"] = sequence._next() if sequence else _("New")
        with workflow_step(self._name):  # the numbers just given
            cases = super().create(vals_list)
        cases._flag_possible_duplicates()
        # Queued here, sent by a cron soon after: the first response is stamped then.
        cases.filtered(lambda c: c.channel in ACKNOWLEDGED_CHANNELS)._queue_acknowledgement(auto=True)
        cases.filtered("involves_illegal_act")._notify_illegal_act()
        cases._check_recurrence()
        cases._queue_event("case.created")
        return cases

    def write(self, vals):
        # Workflow facts: refused by complaint.workflow.mixin's write.
        newly_flagged = (
            self.filtered(lambda c: not c.involves_illegal_act)
            if vals.get("involves_illegal_act") else self.browse()
        )
        result = super().write(vals)
        newly_flagged._notify_illegal_act()
        if {"product_id", "category_id", "received_date"} & set(vals):
            self.filtered(lambda c: not c.is_recurring)._check_recurrence()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_within_retention(self):
        limit = fields.Datetime.now()
        for case in self:
            retention = timedelta(days=case.company_id.complaint_retention_days)
            if not case.close_date or case.close_date + retention > limit:
                raise UserError(
                    _(
                        "Case %(number)s is within its retention period (%(days)s days after "
                        "it ended) and cannot be deleted. Archive it instead.",
                        number=case.name,
                        days=case.company_id.complaint_retention_days,
                    )
                )

    def _compute_access_url(self):
        super()._compute_access_url()
        for case in self:
            case.access_url = f"/my/complaints/{case.id}"

    def _sanitize_phone(self, number):
        """E.164 form of `number` with the company's country as default, or False."""
        if not number:
            return False
        company = self.company_id if len(self) == 1 else self.env.company
        return self.env["res.partner"]._phone_format(
            number=number, country=company.country_id, force_format="E164"
        )

    def _flag_possible_duplicates(self):
        """Flag a case from a customer who has an open case about the same order."""
        for case in self.filtered(lambda c: c.sale_order_id and c.partner_id):
            other = self.sudo().search(
                [
                    ("id", "!=", case.id),
                    ("company_id", "=", case.company_id.id),
                    ("partner_id", "=", case.partner_id.id),
                    ("sale_order_id", "=", case.sale_order_id.id),
                    ("state", "in", OPEN_STATES),
                ],
                order="received_date asc, id asc",
                limit=1,
            )
            if other:
                case._workflow_write({"possible_duplicate_of_id": other.id})
                case.message_post(
                    body=_(
                        "Possible duplicate: %(other)s is still open for the same customer "
                        "and order.", other=other._get_html_link(),
                    )
                )

    @api.depends("source_system")
    @api.depends_context("lang")
    def _compute_source_system_label(self):
        for case in self:
            case.source_system_label = source_system_label(self.env, case.source_system)

    # ------------------------------------------------------------------
    # Lifecycle: the steps are declared in _transitions above; each
    # action_* method checks its step, then writes through _set_state.
    # ------------------------------------------------------------------
    def _mark_first_response(self):
        self.filtered(lambda c: not c.first_response_date)._workflow_write(
            {"first_response_date": fields.Datetime.now()}
        )

    def action_acknowledge(self):
        self._check_transition("action_acknowledge")
        for case in self:
            if not (case.partner_id or case.customer_name):
                raise UserError(
                    _("Before you acknowledge case %s, identify the customer: choose a "
                      "contact or enter the customer's name.", case.name)
                )
            if not (case.partner_id or case.customer_phone or case.customer_email
                    or case.customer_address):
                raise UserError(
                    _("Before you acknowledge case %s, record how to reach the customer "
                      "(phone, email or address).", case.name)
                )
        # The first response is stamped when the acknowledgement is sent
        # (complaint_case_acknowledgement.py), not here.
        self.filtered(lambda c: c.state == "new")._set_state("acknowledged")
        return True

    def action_start_investigation(self):
        self._check_transition("action_start_investigation")
        self._set_state("investigating")
        for case in self:
            if case.user_id and case.user_id != self.env.user:
                case.activity_schedule(
                    "complaint_handling.mail_activity_type_complaint_investigate",
                    date_deadline=(case.resolve_deadline or fields.Datetime.now()).date(),
                    user_id=case.user_id.id,
                )
        return True

    def action_propose_solution(self):
        self._check_transition("action_propose_solution")
        self._set_state("solution_proposed")
        return True

    def _check_solution_approved(self):
        """Hook for the approval step: raise UserError while the proposed
        solution of a case in self is not approved. Nothing to check here."""
        return True

    def action_start_execution(self):
        self._check_transition("action_start_execution")
        self._check_solution_approved()
        self._set_state("in_execution")
        return True

    def action_back_to_investigation(self):
        self._check_transition("action_back_to_investigation")
        self._set_state("investigating")
        return True

    def action_mark_replied(self):
        self._check_transition("action_mark_replied")
        self._check_solution_approved()
        self._mark_first_response()
        self._set_state("replied", resolved_date=fields.Datetime.now())
        return True

    def action_start_follow_up(self):
        self._check_transition("action_start_follow_up")
        self._set_state("follow_up")
        return True

    def _check_can_close(self):
        """Hook for later steps (follow-up outcome, open contact sheets):
        raise UserError when a case in self may not close yet."""
        return True

    def action_close(self):
        self._check_transition("action_close")
        self._check_can_close()
        self._set_state("closed", close_date=fields.Datetime.now())
        return True

    def action_reject(self):
        self._check_transition("action_reject")
        for case in self:
            if case.verdict not in NOT_OUR_VERDICTS:
                raise UserError(
                    _(
                        "Case %s can be rejected only when the responsibility is the "
                        "customer's misunderstanding, the supplier's or the carrier's.",
                        case.name,
                    )
                )
        now = fields.Datetime.now()
        self._mark_first_response()
        self._set_state("rejected", resolved_date=now, close_date=now)
        return True

    def action_cancel(self):
        self._check_transition("action_cancel")
        for case in self:
            if case.cancel_reason == "duplicate" and not case.possible_duplicate_of_id:
                raise UserError(
                    _("Case %s is cancelled as a duplicate, but no original case is linked "
                      "in 'Possible Duplicate Of'.", case.name)
                )
        self._set_state("cancelled", close_date=fields.Datetime.now())
        return True

    def action_reopen(self):
        self._check_transition("action_reopen")
        for case in self:
            case._reopen(case.reopen_reason)
        return True

    def _reopen(self, reason):
        """Back to investigation, counted, and the responsible person told why.
        Used by officers (action_reopen), an unsatisfied follow-up, and a
        customer writing again after closing."""
        for case in self:
            case._set_state(
                "investigating", close_date=False, resolved_date=False,
                reopen_count=case.reopen_count + 1, reopen_reason=reason,
            )
            case.message_post(body=_("Case reopened: %s", reason), subtype_xmlid="mail.mt_note")
            if case.user_id:
                case.activity_schedule(
                    "complaint_handling.mail_activity_type_complaint_investigate",
                    note=_("Reopened: %s", reason),
                    user_id=case.user_id.id,
                )

    # ------------------------------------------------------------------
    # SLA monitoring
    # ------------------------------------------------------------------
    @api.model
    def _cron_check_sla(self, batch_size=1000):
        """Refresh the SLA status of every open case, in batches, and escalate
        new breaches once."""
        domain = [("state", "in", OPEN_STATES)]
        last_id = 0
        now = fields.Datetime.now()
        while True:
            cases = self.with_context(active_test=False).search(
                domain + [("id", ">", last_id)], order="id", limit=batch_size
            )
            if not cases:
                break
            last_id = cases[-1].id
            # Only the cases whose status changed are written (and tracked),
            # one write per new status.
            changed = defaultdict(list)
            for case in cases:
                status = case._sla_status_at(now)
                if status != (case.sla_status, case.is_overdue):
                    changed[status].append(case.id)
            for (sla_status, overdue), ids in changed.items():
                self.browse(ids)._workflow_write({"sla_status": sla_status, "is_overdue": overdue})
            cases.filtered(
                lambda c: c.sla_status == "breached" and not c.sla_escalated_date
            )._escalate_breach()
            cases.flush_recordset()
            self.env.invalidate_all()

    def _escalation_users(self):
        """Users who hear of a breach: the responsible person's manager (or
        the department head), and for urgent cases the customer-service head."""
        self.ensure_one()
        manager = self.user_id.employee_id.parent_id.user_id
        users = manager or self.responsible_department_id.manager_id.user_id
        if self.urgency == "urgent":
            users |= self.company_id.complaint_cs_department_id.manager_id.user_id
        return users

    def _escalate_breach(self):
        now = fields.Datetime.now()
        for case in self:
            users = case._escalation_users()
            for user in users:
                case.activity_schedule(
                    "complaint_handling.mail_activity_type_complaint_escalation",
                    user_id=user.id,
                    note=_("The time limit of case %s is breached.", case.name),
                )
            case.message_post(
                body=_(
                    "SLA breached; escalated to %s.",
                    ", ".join(users.mapped("name")) or _("nobody (no manager found)"),
                ),
                subtype_xmlid="mail.mt_note",
            )
            case._workflow_write({"sla_escalated_date": now})

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }

    def action_view_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "complaint_handling.complaint_call_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"default_case_id": self.id}
        return action
