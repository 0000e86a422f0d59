from markupsafe import Markup

from odoo import _, _lt, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.osv import expression
from odoo.tools import format_datetime, html2plaintext

from ..tools import Transition, add_working_days

GROUP_USER = "complaint_handling.group_complaint_user"
GROUP_OFFICER = "complaint_handling.group_complaint_officer"
GROUP_QUALITY = "complaint_handling.group_complaint_quality"
GROUP_GM_OFFICE = "complaint_handling.group_complaint_gm_office"
ACTIVITY_TYPE = "complaint_handling.mail_activity_type_contact_sheet"

SHEET_STATES = [
    ("draft", "1. Sales: Draft"),
    ("qa_analysis", "2. QA: Analysis"),
    ("countermeasure", "3. Unit: Countermeasure"),
    ("acceptance", "4. Sales: Acceptance"),
    ("arbitration", "GM Office: Arbitration"),
    ("verification", "5. QA: Effectiveness Check"),
    ("done", "Closed: Effective"),
    ("not_ours", "Closed: Not Our Responsibility"),
    ("cancelled", "Cancelled"),
]
CLOSED_SHEET_STATES = ("done", "not_ours", "cancelled")
ROUTINGS = [
    ("quality", "Quality, Specification or Quantity Problem: to QA"),
    ("contract", "Contract-only Problem: to the Department Head"),
    ("sales_process", "Sales-process Problem: to the Sales Process Owner"),
]
RESPONSIBILITIES = [
    ("ours", "Ours"),
    ("supplier", "Supplier's"),
    ("carrier", "Carrier's"),
    ("not_ours", "Not Ours / Customer Misunderstanding"),
]
# The case's verdict for each responsibility the sheet finds.
CASE_VERDICTS = {"ours": "company", "supplier": "supplier", "carrier": "carrier", "not_ours": "customer"}
CAUSE_CATEGORIES = [
    ("man", "Man"),
    ("machine", "Machine"),
    ("material", "Material"),
    ("method", "Method"),
    ("environment", "Environment"),
    ("measurement", "Measurement"),
]
ARBITRATION_OUTCOMES = [
    ("countermeasure_stands", "The Countermeasure Stands"),
    ("new_proposal", "The Unit Proposes Again"),
]

# Who fills which part of the paper form, and in which state. The
# `_check_section_write` guard enforces this on every write.
SECTION_FIELDS = {
    "sales": (
        "product_id", "lot_number", "quantity_affected", "delivery_reference", "delivery_date",
        "defect_description", "evidence_attachment_ids", "routing", "reviewer_id",
        "handling_opinion", "qa_user_id", "date_issued",
    ),
    "analysis": (
        "inspection_result", "inspection_attachment_ids", "responsibility",
        "countermeasure_department_id", "not_ours_explanation",
    ),
    "countermeasure": (
        "immediate_action", "root_cause", "cause_category", "engineering_change_needed",
        "engineering_change_reference",
    ),
    "acceptance": ("handling_plan", "rejection_reason"),
    "dispute": ("dispute_reason",),
    "arbitration": ("arbitration_decision", "arbitration_outcome"),
    "verification": ("verification_evidence", "verification_attachment_ids"),
}
SECTION_STATES = {
    "sales": ("draft",),
    "analysis": ("qa_analysis",),
    "countermeasure": ("countermeasure",),
    "acceptance": ("acceptance",),
    "dispute": ("acceptance", "countermeasure"),
    "arbitration": ("arbitration",),
    "verification": ("verification",),
}
OPEN_SHEET_STATES = tuple(state for state, _label in SHEET_STATES if state not in CLOSED_SHEET_STATES)


class ComplaintContactSheet(models.Model):
    _name = "complaint.contact.sheet"
    _description = "Complaint Contact Sheet"
    _inherit = ["mail.thread", "mail.activity.mixin", "complaint.workflow.mixin"]
    _order = "id desc"
    _check_company_auto = True

    # The paper form's hand-overs: who may take each step (the party whose
    # turn it is), from which step, and what must be filled first.
    _transitions = {
        "action_submit": Transition(
            _lt("submit"), ("draft",), party="_is_sales_party", required=("defect_description", "routing"),
        ),
        "action_analyse": Transition(
            _lt("record the analysis of"), ("qa_analysis",), party="_is_analysis_party",
            required=("inspection_result", "responsibility"),
        ),
        "action_propose_countermeasure": Transition(
            _lt("propose the countermeasure of"), ("countermeasure",), party="_is_unit_party",
            required=("immediate_action", "root_cause", "cause_category"),
        ),
        "action_accept_countermeasure": Transition(
            _lt("accept the countermeasure of"), ("acceptance",), party="_is_sales_party",
            required=("handling_plan",),
        ),
        "action_reject_countermeasure": Transition(
            _lt("reject the countermeasure of"), ("acceptance",), party="_is_sales_party",
            required=("rejection_reason",),
        ),
        "action_escalate_dispute": Transition(
            _lt("take to the GM office"), ("acceptance", "countermeasure"), party="_is_disputing_party",
            required=("dispute_reason",),
        ),
        "action_arbitrate": Transition(
            _lt("arbitrate"), ("arbitration",), (GROUP_GM_OFFICE,),
            required=("arbitration_decision", "arbitration_outcome"),
        ),
        "action_confirm_effective": Transition(
            _lt("confirm the effectiveness of"), ("verification",), (GROUP_QUALITY,),
            required=("verification_evidence",),
        ),
        "action_mark_ineffective": Transition(
            _lt("record an ineffective check of"), ("verification",), (GROUP_QUALITY,),
            required=("verification_evidence",),
        ),
        "action_cancel": Transition(
            _lt("cancel"), OPEN_SHEET_STATES, party="_is_sales_party", required=("cancel_reason",),
        ),
    }

    name = fields.Char(string="Number", readonly=True, copy=False, default="/", index="trigram")
    state = fields.Selection(
        SHEET_STATES, default="draft", required=True, readonly=True, copy=False, tracking=True,
        group_expand="_group_expand_states", index=True,
    )
    case_id = fields.Many2one(
        "complaint.case", string="Complaint Case", required=True, ondelete="restrict", index=True,
        check_company=True, domain=[("quality_related", "=", True)],
    )
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    # The case's customer, order and status: shown only to who may read the
    # case (every complaint user reads the sheets, not every case).
    partner_id = fields.Many2one(
        "res.partner", string="Customer", compute="_compute_case_details", search="_search_partner_id",
    )
    customer_name = fields.Char(
        string="Customer Name", compute="_compute_case_details", help="Name as given by the customer.",
    )
    sale_order_id = fields.Many2one("sale.order", string="Sales Order", compute="_compute_case_details")
    case_state = fields.Selection(
        selection=lambda self: self.env["complaint.case"]._fields["state"]._description_selection(self.env),
        string="Case Status", compute="_compute_case_details",
    )

    # 1. Sales
    sales_user_id = fields.Many2one(
        "res.users", string="Issued By", default=lambda self: self.env.user, readonly=True,
        tracking=True,
    )
    date_issued = fields.Datetime(
        string="Issued On", default=fields.Datetime.now, required=True,
        help="The reply to the customer is due a number of working days after this.",
    )
    product_id = fields.Many2one("product.product", string="Product", index=True, check_company=True)
    lot_number = fields.Char(string="Lot / Batch")
    quantity_affected = fields.Float(string="Quantity Affected", digits="Product Unit of Measure")
    delivery_reference = fields.Char(string="Delivery", help="Delivery note or shipment of the goods.")
    delivery_date = fields.Date(string="Delivered On")
    defect_description = fields.Text(string="Defect as Described by the Customer")
    evidence_attachment_ids = fields.Many2many(
        "ir.attachment", "complaint_contact_sheet_evidence_rel", "sheet_id", "attachment_id",
        string="Evidence",
    )
    routing = fields.Selection(ROUTINGS, default="quality", required=True, tracking=True)
    reviewer_id = fields.Many2one(
        "res.users", string="Department Head / Process Owner", tracking=True, check_company=True,
        help="Who analyses a contract-only or sales-process problem instead of QA.",
    )
    handling_opinion = fields.Text(string="Sales' Handling Opinion")
    qa_user_id = fields.Many2one(
        "res.users", string="QA in Charge", tracking=True, check_company=True,
        domain=lambda self: [("groups_id", "in", self.env.ref(GROUP_QUALITY).id)],
        help="Left empty, every member of Quality Assurance is told.",
    )
    date_submitted = fields.Datetime(string="Submitted On", readonly=True, copy=False)

    # 2. QA
    qa_deadline = fields.Datetime(
        string="QA Analysis Due", compute="_compute_qa_deadline", store=True,
        help="Working hours after submission, on the company's working calendar.",
    )
    inspection_result = fields.Text(string="Inspection Result")
    inspection_attachment_ids = fields.Many2many(
        "ir.attachment", "complaint_contact_sheet_inspection_rel", "sheet_id", "attachment_id",
        string="Inspection Records",
    )
    responsibility = fields.Selection(RESPONSIBILITIES, string="Responsibility", tracking=True)
    countermeasure_department_id = fields.Many2one(
        "hr.department", string="Countermeasure Unit", tracking=True, index=True, check_company=True,
    )
    not_ours_explanation = fields.Text(
        string="Explanation for the Customer",
        help="Why the problem is not ours; customer service uses it for the written explanation.",
    )
    analysis_user_id = fields.Many2one("res.users", string="Analysed By", readonly=True, copy=False)
    analysis_date = fields.Datetime(string="Analysed On", readonly=True, copy=False)
    qa_late = fields.Boolean(string="QA Analysis Late", compute="_compute_lateness")

    # 3. Countermeasure unit
    immediate_action = fields.Text(string="Immediate Correction / Containment")
    root_cause = fields.Text(string="Root Cause")
    cause_category = fields.Selection(CAUSE_CATEGORIES, string="Cause Category", tracking=True, index=True)
    action_ids = fields.One2many("complaint.contact.sheet.action", "sheet_id", string="Actions")
    action_count = fields.Integer(compute="_compute_action_counts")
    open_action_count = fields.Integer(string="Open Actions", compute="_compute_action_counts")
    engineering_change_needed = fields.Boolean(string="Engineering Change Needed")
    engineering_change_reference = fields.Char(string="Engineering Change Reference")
    unit_user_id = fields.Many2one("res.users", string="Proposed By", readonly=True, copy=False)
    unit_date = fields.Datetime(string="Proposed On", readonly=True, copy=False)
    proposal_count = fields.Integer(
        string="Proposals", readonly=True, copy=False,
        help="How many countermeasures the unit has proposed for this sheet.",
    )

    # 4. Sales' acceptance, GM arbitration
    reply_deadline = fields.Datetime(
        string="Reply to Customer Due", compute="_compute_reply_deadline", store=True,
        help="Working days after the sheet was issued, on the company's working calendar.",
    )
    reply_late = fields.Boolean(string="Reply Late", compute="_compute_lateness")
    handling_plan = fields.Html(
        string="Handling Plan for the Customer", sanitize=True,
        help="Drafted by sales from the accepted countermeasure; it becomes the case's proposed solution.",
    )
    rejection_reason = fields.Text(string="Reason for Rejecting the Countermeasure")
    dispute_reason = fields.Text(string="Dispute")
    acceptance_user_id = fields.Many2one("res.users", string="Accepted By", readonly=True, copy=False)
    acceptance_date = fields.Datetime(string="Accepted On", readonly=True, copy=False)
    arbitration_decision = fields.Text(string="GM Office Decision")
    arbitration_outcome = fields.Selection(ARBITRATION_OUTCOMES, string="Arbitration Outcome", tracking=True)
    arbitration_user_id = fields.Many2one("res.users", string="Decided By", readonly=True, copy=False)
    arbitration_date = fields.Datetime(string="Decided On", readonly=True, copy=False)

    # 5. QA's effectiveness check
    verification_round = fields.Integer(
        string="Verification Round", default=1, readonly=True, copy=False, aggregator="max",
        # Grouped, the highest round: a sum of rounds means nothing.
        help="1 for the first check; one more each time QA finds the action not effective.",
    )
    verification_evidence = fields.Text(string="Verification Evidence")
    verification_attachment_ids = fields.Many2many(
        "ir.attachment", "complaint_contact_sheet_verification_rel", "sheet_id", "attachment_id",
        string="Verification Records",
    )
    verification_user_id = fields.Many2one("res.users", string="Verified By", readonly=True, copy=False)
    verification_date = fields.Datetime(string="Verified On", readonly=True, copy=False)
    cancel_reason = fields.Char(string="Cancellation Reason", copy=False)

    # Whose turn it is, for the current user: drives the view and "My Sheets to Handle".
    is_my_turn = fields.Boolean(
        string="To Handle by Me", compute="_compute_parties", search="_search_is_my_turn"
    )
    can_edit_sales = fields.Boolean(compute="_compute_parties")
    can_edit_analysis = fields.Boolean(compute="_compute_parties")
    can_edit_countermeasure = fields.Boolean(compute="_compute_parties")
    can_edit_arbitration = fields.Boolean(compute="_compute_parties")

    @api.depends("case_id.partner_id", "case_id.customer_name", "case_id.sale_order_id", "case_id.state")
    @api.depends_context("uid")
    def _compute_case_details(self):
        readable = self.case_id._filtered_access("read")
        for sheet in self:
            case = sheet.case_id if sheet.case_id in readable else self.env["complaint.case"]
            sheet.partner_id = case.partner_id
            sheet.customer_name = case.customer_name
            sheet.sale_order_id = case.sale_order_id
            sheet.case_state = case.state

    def _search_partner_id(self, operator, value):
        """Sheets whose case, readable by the user, has a matching customer."""
        cases = self.env["complaint.case"].with_context(active_test=False)._search([("partner_id", operator, value)])
        return [("case_id", "in", cases)]

    _sql_constraints = [
        ("quantity_affected_positive", "CHECK(quantity_affected >= 0)",
         "The quantity affected cannot be negative."),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    def _group_expand_states(self, states, domain):
        return [key for key, _label in SHEET_STATES if key != "cancelled"]

    @api.depends("date_submitted", "company_id.complaint_sheet_qa_hours")
    def _compute_qa_deadline(self):
        for sheet in self:
            hours = sheet.company_id.complaint_sheet_qa_hours
            sheet.qa_deadline = (
                sheet.case_id._calendar().plan_hours(hours, sheet.date_submitted, compute_leaves=True)
                if sheet.date_submitted and hours > 0 else False
            )

    @api.depends("date_issued", "company_id.complaint_sheet_reply_days")
    def _compute_reply_deadline(self):
        for sheet in self:
            days = sheet.company_id.complaint_sheet_reply_days
            sheet.reply_deadline = (
                add_working_days(sheet.case_id._calendar(), sheet.date_issued, days)
                if sheet.date_issued and days > 0 else False
            )

    @api.depends("qa_deadline", "analysis_date", "reply_deadline", "acceptance_date", "state")
    def _compute_lateness(self):
        """Late when the step happened after its deadline, or has not happened
        and the deadline has passed."""
        now = fields.Datetime.now()
        for sheet in self:
            analysed = sheet.analysis_date or (now if sheet.state == "qa_analysis" else False)
            sheet.qa_late = bool(sheet.qa_deadline and analysed and analysed > sheet.qa_deadline)
            answered = sheet.acceptance_date or (
                sheet.analysis_date if sheet.state == "not_ours" else False
            ) or (now if sheet.state not in CLOSED_SHEET_STATES else False)
            sheet.reply_late = bool(sheet.reply_deadline and answered and answered > sheet.reply_deadline)

    @api.depends("action_ids.state")
    def _compute_action_counts(self):
        for sheet in self:
            sheet.action_count = len(sheet.action_ids)
            sheet.open_action_count = len(sheet.action_ids.filtered(lambda a: a.state == "todo"))

    @api.depends_context("uid")
    @api.depends("state", "sales_user_id", "routing", "reviewer_id", "qa_user_id",
                 "countermeasure_department_id")
    def _compute_parties(self):
        user = self.env.user
        for sheet in self:
            sheet.can_edit_sales = sheet._is_sales_party(user)
            sheet.can_edit_analysis = sheet._is_analysis_party(user)
            sheet.can_edit_countermeasure = sheet._is_unit_party(user)
            sheet.can_edit_arbitration = user.has_group(GROUP_GM_OFFICE)
            sheet.is_my_turn = sheet._party_of_state(user)

    def _search_is_my_turn(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search 'To Handle by Me' with = True or = False only."))
        user = self.env.user
        departments = user.employee_ids.department_id
        domains = [
            [("state", "in", ("draft", "acceptance")), ("sales_user_id", "=", user.id)],
            [("state", "=", "qa_analysis"), ("routing", "!=", "quality"), ("reviewer_id", "=", user.id)],
        ]
        if departments:
            domains.append(
                [("state", "=", "countermeasure"), ("countermeasure_department_id", "parent_of", departments.ids)]
            )
        if user.has_group(GROUP_QUALITY):
            domains.append([
                "|", "&", ("state", "=", "qa_analysis"), ("routing", "=", "quality"),
                ("state", "=", "verification"),
                ("qa_user_id", "in", (user.id, False)),
            ])
        if user.has_group(GROUP_GM_OFFICE):
            domains.append([("state", "=", "arbitration")])
        domain = expression.OR(domains)
        return domain if (operator == "=") == value else ["!", *domain]

    # ------------------------------------------------------------------
    # Parties
    # ------------------------------------------------------------------
    def _is_sales_party(self, user):
        """The sales unit: who issued the sheet, customer service (complaint
        officers) and the members of the company's customer service department."""
        self.ensure_one()
        if user == self.sales_user_id or user.has_group(GROUP_OFFICER):
            return True
        cs_department = self.company_id.complaint_cs_department_id
        return bool(cs_department and cs_department in user.employee_ids.department_id)

    def _is_analysis_party(self, user):
        """QA for quality problems; the named department head or sales
        process owner for contract-only and sales-process problems."""
        self.ensure_one()
        if self.routing == "quality":
            return user.has_group(GROUP_QUALITY)
        return bool(self.reviewer_id) and user == self.reviewer_id

    def _is_unit_party(self, user):
        """Members of the countermeasure unit (or of its sub-departments) and its manager."""
        self.ensure_one()
        unit = self.countermeasure_department_id
        if not unit:
            return False
        if unit.manager_id.user_id == user:
            return True
        unit_path = unit.sudo().parent_path
        return any(
            (department.sudo().parent_path or "").startswith(unit_path)
            for department in user.employee_ids.department_id
        )

    def _is_disputing_party(self, user):
        """Sales or the countermeasure unit may take a disagreement to the GM office."""
        return self._is_sales_party(user) or self._is_unit_party(user)

    def _party_of_state(self, user):
        """Is it `user`'s turn to act on the sheet?"""
        self.ensure_one()
        if self.state in ("draft", "acceptance"):
            return user == self.sales_user_id
        if self.state == "qa_analysis":
            return self._is_analysis_party(user) and (
                self.routing != "quality" or self.qa_user_id in (user, self.env["res.users"])
            )
        if self.state == "countermeasure":
            return self._is_unit_party(user)
        if self.state == "arbitration":
            return user.has_group(GROUP_GM_OFFICE)
        if self.state == "verification":
            return user.has_group(GROUP_QUALITY) and self.qa_user_id in (user, self.env["res.users"])
        return False

    def _section_label(self, section):
        return {
            "sales": _("section 1 (sales)"),
            "analysis": _("section 2 (QA analysis)"),
            "countermeasure": _("section 3 (countermeasure unit)"),
            "acceptance": _("section 4 (sales' acceptance)"),
            "dispute": _("the dispute for the GM office"),
            "arbitration": _("the GM office's arbitration"),
            "verification": _("section 5 (QA's effectiveness check)"),
        }[section]

    def _may_edit_section(self, section, user):
        self.ensure_one()
        if section in ("sales", "acceptance"):
            return self._is_sales_party(user)
        if section == "analysis":
            return self._is_analysis_party(user)
        if section == "countermeasure":
            return self._is_unit_party(user)
        if section == "dispute":
            return self._is_sales_party(user) or self._is_unit_party(user)
        if section == "arbitration":
            return user.has_group(GROUP_GM_OFFICE)
        return user.has_group(GROUP_QUALITY)

    def _check_section_write(self, field_names):
        """Each party fills only its own section, and only while the sheet is with it."""
        if self._in_server_step():
            return
        user = self.env.user
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        for section, section_fields in SECTION_FIELDS.items():
            touched = set(field_names) & set(section_fields)
            if not touched:
                continue
            for sheet in self:
                if not sheet._may_edit_section(section, user):
                    raise AccessError(
                        _(
                            "You cannot fill %(section)s of contact sheet %(number)s: it belongs "
                            "to another party (fields: %(fields)s).",
                            section=sheet._section_label(section), number=sheet.name,
                            fields=", ".join(sorted(
                                sheet._fields[f].get_description(self.env)["string"] for f in touched
                            )),
                        )
                    )
                if sheet.state not in SECTION_STATES[section]:
                    raise UserError(
                        _(
                            "Contact sheet %(number)s is at step '%(state)s': %(section)s "
                            "cannot be changed now.",
                            number=sheet.name, state=state_labels[sheet.state],
                            section=sheet._section_label(section),
                        )
                    )

    # ------------------------------------------------------------------
    # ORM: what create and write of a sheet enforce
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # The step, its stamps and the number: refused by complaint.workflow.mixin.
        sheets = super().create(vals_list)
        for sheet in sheets:
            if sheet.case_id.state in ("closed", "rejected", "cancelled"):
                raise UserError(
                    _("Case %s has ended: reopen it before issuing a contact sheet.", sheet.case_id.name)
                )
            if not sheet.case_id.quality_related:
                raise ValidationError(
                    _("Case %s is not quality-related: mark it 'Quality-related' before issuing a "
                      "contact sheet.", sheet.case_id.name)
                )
            sequence = self.env["ir.sequence"].with_company(sheet.company_id).sudo()
            sheet._workflow_write({"name": sequence.next_by_code("complaint.contact.sheet") or "/"})
            sheet.case_id.message_post(
                body=_("Contact sheet %s issued.", sheet._get_html_link()), subtype_xmlid="mail.mt_note"
            )
        return sheets

    def write(self, vals):
        if "case_id" in vals and not self._in_server_step():
            raise UserError(_("A contact sheet stays with the case it was issued for."))
        # Each party fills only its own section, while the sheet is with it.
        self._check_section_write(vals.keys())
        result = super().write(vals)
        if {"cause_category", "product_id"} & set(vals):
            # The root cause found may make the problem a recurring one.
            self.case_id.sudo()._check_recurrence()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        for sheet in self:
            if sheet.state != "draft":
                raise UserError(
                    _("Contact sheet %s has been handed over; cancel it instead of deleting it.", sheet.name)
                )

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    @staticmethod
    def _html_has_text(html):
        return bool(html2plaintext(html or "").strip())

    def _step_write(self, values):
        return self._workflow_write(values)

    def _hand_over(self, users, summary, message):
        """Log the hand-over in the chatter, notify `users` and give them an
        activity; the activities of the party that handed over are done."""
        self.ensure_one()
        users = users.filtered(lambda u: u.active and not u.share)
        done = self.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(ACTIVITY_TYPE)
        )
        done.action_feedback(feedback=summary)
        self.message_post(
            body=message, subtype_xmlid="mail.mt_comment", partner_ids=users.partner_id.ids,
        )
        deadline = fields.Date.context_today(self)
        for user in users:
            self.activity_schedule(
                ACTIVITY_TYPE, date_deadline=deadline, summary=summary, user_id=user.id,
            )

    def _qa_users(self):
        """QA in charge of the sheet, else every member of Quality Assurance."""
        self.ensure_one()
        if self.qa_user_id:
            return self.qa_user_id
        return self.env.ref(GROUP_QUALITY).sudo().users.filtered(
            lambda u: self.company_id in u.company_ids
        ) - self.env.ref("base.user_root")

    def _analysis_users(self):
        self.ensure_one()
        return self._qa_users() if self.routing == "quality" else self.reviewer_id

    def _unit_users(self):
        self.ensure_one()
        unit = self.countermeasure_department_id.sudo()
        head = unit.manager_id.user_id
        return head or unit.member_ids.user_id

    def _gm_users(self):
        return self.env.ref(GROUP_GM_OFFICE).sudo().users - self.env.ref("base.user_root")

    def action_submit(self):
        """Sales hands section 1 over to QA (or the department head / process owner)."""
        self._check_transition("action_submit")
        for sheet in self:
            if sheet.routing != "quality" and not sheet.reviewer_id:
                raise UserError(
                    _("Contact sheet %s is routed to a department head or the sales process owner: "
                      "name them in 'Department Head / Process Owner'.", sheet.name)
                )
            if sheet.routing == "contract" and not sheet.handling_opinion:
                raise UserError(
                    _("A contract-only problem goes to the department head with sales' handling "
                      "opinion: fill in 'Sales' Handling Opinion' on contact sheet %s.", sheet.name)
                )
            sheet._step_write({"state": "qa_analysis", "date_submitted": fields.Datetime.now()})
            sheet._hand_over(
                sheet._analysis_users(), _("Analyse contact sheet %s", sheet.name),
                _("Submitted for analysis; the first analysis is due by %(deadline)s.",
                  deadline=sheet._format_datetime(sheet.qa_deadline)),
            )
        return True

    def action_analyse(self):
        """QA records its verdict: to the countermeasure unit, or back to
        customer service when the problem is not ours."""
        self._check_transition("action_analyse")
        now = fields.Datetime.now()
        for sheet in self:
            values = {"analysis_user_id": self.env.user.id, "analysis_date": now}
            if sheet.responsibility == "not_ours":
                if not sheet.not_ours_explanation:
                    raise UserError(
                        _("The problem of contact sheet %s is not ours: fill in the 'Explanation for "
                          "the Customer'.", sheet.name)
                    )
                sheet._step_write(dict(values, state="not_ours"))
                sheet._return_not_ours()
                continue
            if not sheet.countermeasure_department_id:
                raise UserError(
                    _("Choose the countermeasure unit of contact sheet %s.", sheet.name)
                )
            sheet._step_write(dict(values, state="countermeasure"))
            sheet._hand_over(
                sheet._unit_users(), _("Countermeasure for contact sheet %s", sheet.name),
                _("Analysed: %(responsibility)s responsibility; %(unit)s is to propose the "
                  "countermeasure.",
                  responsibility=dict(sheet._fields["responsibility"]._description_selection(self.env))[
                      sheet.responsibility],
                  unit=sheet.countermeasure_department_id.display_name),
            )
        return True

    def _return_not_ours(self):
        """Back to customer service with the explanation; the case is ready
        for the written explanation (rejection)."""
        self.ensure_one()
        case = self.case_id.sudo()
        values = {}
        if not case.verdict or case.verdict == "undetermined":
            values["verdict"] = CASE_VERDICTS["not_ours"]
        if not case.rejection_explanation:
            values["rejection_explanation"] = self.not_ours_explanation
        if values:
            case.write(values)
        case.message_post(
            body=_("Contact sheet %(sheet)s: not our responsibility. %(explanation)s",
                   sheet=self._get_html_link(), explanation=self.not_ours_explanation),
            subtype_xmlid="mail.mt_note",
        )
        self._hand_over(
            self.sales_user_id | case.user_id,
            _("Send the written explanation for case %s", case.name),
            _("Not our responsibility: back to customer service with the explanation. "
              "The case can now be rejected with a written explanation."),
        )

    def action_propose_countermeasure(self):
        """The unit hands section 3 back to sales."""
        self._check_transition("action_propose_countermeasure")
        for sheet in self:
            if not sheet.action_ids.filtered(lambda a: a.state != "cancelled"):
                raise UserError(
                    _("Add at least one corrective or preventive action to contact sheet %s.", sheet.name)
                )
            if sheet.engineering_change_needed and not sheet.engineering_change_reference:
                raise UserError(
                    _("Contact sheet %s needs an engineering change: fill in its reference.", sheet.name)
                )
            sheet._step_write({
                "state": "acceptance", "unit_user_id": self.env.user.id,
                "unit_date": fields.Datetime.now(), "proposal_count": sheet.proposal_count + 1,
                "rejection_reason": False, "dispute_reason": False,
                "arbitration_outcome": False, "arbitration_decision": False,
            })
            sheet._hand_over(
                sheet.sales_user_id, _("Accept or reject the countermeasure of %s", sheet.name),
                _("Countermeasure proposed (proposal %(count)s); the reply to the customer is due by "
                  "%(deadline)s.", count=sheet.proposal_count,
                  deadline=sheet._format_datetime(sheet.reply_deadline)),
            )
        return True

    def action_accept_countermeasure(self):
        """Sales accepts; its handling plan becomes the case's proposed solution
        and the sheet goes to QA's effectiveness check."""
        self._check_transition("action_accept_countermeasure")
        for sheet in self:
            sheet._step_write({
                "state": "verification", "acceptance_user_id": self.env.user.id,
                "acceptance_date": fields.Datetime.now(),
            })
            sheet._feed_case_solution()
            sheet._hand_over(
                sheet._qa_users(),
                _("Check the effectiveness of %s", sheet.name),
                _("Countermeasure accepted; QA checks its effectiveness once the actions are done."),
            )
        return True

    def _feed_case_solution(self):
        """The accepted handling plans of the case's sheets become its proposed
        solution (one plan as it is; several under their sheet numbers)."""
        self.ensure_one()
        case = self.case_id
        accepted = case.contact_sheet_ids.filtered(
            lambda s: s.acceptance_date and s.state != "cancelled"
        ).sorted("id")
        if len(accepted) > 1:
            plan = Markup("").join(
                Markup("<p><strong>%s</strong></p>%s") % (sheet.name, sheet.handling_plan)
                for sheet in accepted
            )
        else:
            plan = self.handling_plan
        values = {"solution_description": plan}
        if not case.verdict or case.verdict == "undetermined":
            values["verdict"] = CASE_VERDICTS[self.responsibility or "ours"]
        case.write(values)
        if case.state == "investigating":
            case.action_propose_solution()
        case.message_post(
            body=_("The handling plan of contact sheet %s is now the proposed solution.",
                   self._get_html_link()),
            subtype_xmlid="mail.mt_note",
        )

    def action_reject_countermeasure(self):
        """Sales rejects the countermeasure with a reason: back to the unit."""
        self._check_transition("action_reject_countermeasure")
        for sheet in self:
            if sheet.arbitration_outcome == "countermeasure_stands":
                raise UserError(
                    _("The GM office decided that the countermeasure of contact sheet %s stands; "
                      "accept it.", sheet.name)
                )
            reason = sheet.rejection_reason
            sheet._step_write({"state": "countermeasure"})
            sheet._hand_over(
                sheet._unit_users(), _("Propose a new countermeasure for %s", sheet.name),
                _("Countermeasure rejected by sales: %s", reason),
            )
        return True

    def action_escalate_dispute(self):
        """Sales or the unit takes a disagreement to the GM office."""
        self._check_transition("action_escalate_dispute")
        for sheet in self:
            if sheet.state == "countermeasure" and not sheet.proposal_count:
                raise UserError(
                    _("Contact sheet %s has no countermeasure proposed yet: there is nothing to "
                      "dispute.", sheet.name)
                )
            sheet._step_write({"state": "arbitration"})
            sheet._hand_over(
                sheet._gm_users(), _("Arbitrate contact sheet %s", sheet.name),
                _("Dispute taken to the GM office: %(reason)s (the reply to the customer is due by "
                  "%(deadline)s).", reason=sheet.dispute_reason,
                  deadline=sheet._format_datetime(sheet.reply_deadline)),
            )
        return True

    def action_arbitrate(self):
        """The GM office decides: the countermeasure stands (sales accepts it)
        or the unit proposes again."""
        self._check_transition("action_arbitrate")
        for sheet in self:
            values = {"arbitration_user_id": self.env.user.id, "arbitration_date": fields.Datetime.now()}
            if sheet.arbitration_outcome == "countermeasure_stands":
                sheet._step_write(dict(values, state="acceptance"))
                receivers = sheet.sales_user_id
            else:
                sheet._step_write(dict(values, state="countermeasure"))
                receivers = sheet._unit_users()
            sheet._hand_over(
                receivers, _("GM office decision on %s", sheet.name),
                _("GM office decision: %s", sheet.arbitration_decision),
            )
        return True

    def action_confirm_effective(self):
        """QA confirms the action worked; the sheet closes."""
        self._check_transition("action_confirm_effective")
        for sheet in self:
            actions = sheet.action_ids.filtered(lambda a: a.state != "cancelled")
            if not actions or actions.filtered(lambda a: a.state != "done"):
                raise UserError(
                    _("Contact sheet %(number)s can close only when all its actions are done "
                      "(%(open)s still open).", number=sheet.name,
                      open=len(actions.filtered(lambda a: a.state != "done")))
                )
            sheet._step_write({
                "state": "done", "verification_user_id": self.env.user.id,
                "verification_date": fields.Datetime.now(),
            })
            sheet._hand_over(
                sheet.sales_user_id, _("Contact sheet %s closed", sheet.name),
                _("Effective (round %s): the corrective action is confirmed; the sheet is closed.",
                  sheet.verification_round),
            )
        return True

    def action_mark_ineffective(self):
        """QA finds the action did not work: back to root cause analysis, counted."""
        self._check_transition("action_mark_ineffective")
        for sheet in self:
            evidence = sheet.verification_evidence
            sheet._step_write({
                "state": "countermeasure", "verification_round": sheet.verification_round + 1,
                "verification_user_id": self.env.user.id, "verification_date": fields.Datetime.now(),
                "verification_evidence": False, "acceptance_user_id": False, "acceptance_date": False,
            })
            sheet._hand_over(
                sheet._unit_users(), _("Analyse the root cause of %s again", sheet.name),
                _("Not effective (round %(round)s): %(evidence)s. Back to root cause analysis.",
                  round=sheet.verification_round - 1, evidence=evidence),
            )
        return True

    def action_cancel(self):
        self._check_transition("action_cancel")
        for sheet in self:
            sheet._step_write({"state": "cancelled"})
            sheet.activity_ids.action_feedback(feedback=_("Cancelled: %s", sheet.cancel_reason))
            sheet.message_post(body=_("Cancelled: %s", sheet.cancel_reason), subtype_xmlid="mail.mt_note")
        return True

    def _format_datetime(self, value):
        if not value:
            return _("no deadline")
        tz = self.case_id._calendar().tz or "UTC"
        return format_datetime(self.env, value, tz=tz, dt_format="short")

    def action_view_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "complaint.case",
            "res_id": self.case_id.id,
            "view_mode": "form",
        }
