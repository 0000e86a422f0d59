from odoo import _, _lt, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang

from ..tools import Transition

SOLUTION_TYPES = [
    ("refund", "Refund"),
    ("exchange", "Exchange"),
    ("repair", "Free Repair"),
    ("price_reduction", "Price Reduction"),
    ("compensation", "Compensation"),
    ("voucher", "Voucher"),
    ("apology", "Apology / Explanation"),
]
# Types that need the marketing director above the threshold (domain 002/003).
MONETARY_TYPES = ("refund", "exchange", "repair", "price_reduction", "compensation")
# Types that move goods: a return and a replacement delivery.
DELIVERY_TYPES = ("exchange", "refund")
BASES = [
    ("policy", "Policy"),
    ("contract", "Contract Clause"),
    ("inspection", "Inspection Result"),
    ("goodwill", "Goodwill"),
]
EXECUTION_STATES = [
    ("to_do", "To Execute"),
    ("done", "Executed"),
]
# What the approval covers; changing one of these restarts the case's approval.
APPROVED_LINE_FIELDS = ("solution_type", "amount", "currency_id", "basis", "basis_detail", "name")

GROUP_OFFICER = "complaint_handling.group_complaint_officer"
GROUP_FINANCE = "complaint_handling.group_complaint_finance"
GROUP_USER = "complaint_handling.group_complaint_user"


class ComplaintSolutionLine(models.Model):
    """One element of the solution offered to the customer, with its basis,
    approved with the case, then executed (credit note, deliveries)."""

    _name = "complaint.solution.line"
    _description = "Complaint Solution Line"
    _inherit = ["complaint.workflow.mixin"]
    _order = "case_id, sequence, id"
    _check_company_auto = True

    # Executing a line: customer service or finance, once the case's
    # solution is approved and being carried out (see _check_can_execute).
    _workflow_state_field = "execution_state"
    _transitions = {
        name: Transition(label, ("to_do",), (GROUP_OFFICER, GROUP_FINANCE))
        for name, label in (
            ("action_create_credit_note", _lt("create the credit note of a refund")),
            ("action_link_transfers", _lt("link the transfers of")),
            ("action_mark_executed", _lt("mark as executed")),
        )
    }

    case_id = fields.Many2one(
        "complaint.case", required=True, ondelete="cascade", index=True, check_company=True,
    )
    case_number = fields.Char(related="case_id.name", string="Case Number", store=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    solution_type = fields.Selection(SOLUTION_TYPES, string="Type", required=True)
    name = fields.Char(string="Description")
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id,
    )
    amount_company = fields.Monetary(
        string="Amount (Company Currency)", currency_field="company_currency_id",
        compute="_compute_amount_company", store=True,
    )
    basis = fields.Selection(BASES, required=True, default="policy")
    basis_detail = fields.Char(
        string="Basis Details", help="Which policy, contract clause or inspection report.",
    )
    approval_state = fields.Selection(related="case_id.approval_state", string="Approval", store=True)
    sale_order_ref = fields.Char(related="case_id.sale_order_id.name", string="Sales Order", store=True)

    # Execution
    execution_state = fields.Selection(
        EXECUTION_STATES, default="to_do", required=True, readonly=True, copy=False,
    )
    execution_date = fields.Date(readonly=True, copy=False)
    executed_by_id = fields.Many2one("res.users", string="Executed By", readonly=True, copy=False)
    credit_note_id = fields.Many2one(
        "account.move", string="Credit Note", readonly=True, copy=False, index="btree_not_null",
        check_company=True,
    )
    credit_note_state = fields.Selection(related="credit_note_id.state", string="Credit Note Status")
    invoice_id = fields.Many2one(
        "account.move", string="Refunded Invoice", readonly=True, copy=False, check_company=True,
    )
    return_reference = fields.Char(string="Return Delivery", copy=False)
    return_date = fields.Date(string="Goods Returned On", copy=False)
    replacement_reference = fields.Char(string="Replacement Delivery", copy=False)
    replacement_date = fields.Date(string="Replacement Shipped On", copy=False)
    return_picking_ref = fields.Reference(
        selection="_selection_picking_model", string="Return Transfer", copy=False,
    )
    replacement_picking_ref = fields.Reference(
        selection="_selection_picking_model", string="Replacement Transfer", copy=False,
    )

    @api.model
    def _selection_picking_model(self):
        # Inventory is optional: link transfers only when it is installed.
        if "stock.picking" in self.env:
            return [("stock.picking", _("Transfer"))]
        return []

    @api.depends("amount", "currency_id", "company_id", "case_id.received_date")
    def _compute_amount_company(self):
        for line in self:
            company = line.company_id or self.env.company
            if not line.currency_id or line.currency_id == company.currency_id:
                line.amount_company = line.amount
            else:
                line.amount_company = line.currency_id._convert(
                    line.amount, company.currency_id, company, fields.Date.context_today(line),
                )

    # ------------------------------------------------------------------
    # ORM: changing approved content restarts the case's approval
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Execution stamps, credit notes and related facts: refused by complaint.workflow.mixin.
        lines = super().create(vals_list)
        lines.case_id._approval_restart(_("a solution line was added."))
        return lines

    def write(self, vals):
        if self.filtered(lambda l: l.execution_state == "done") and set(vals) & set(APPROVED_LINE_FIELDS):
            raise UserError(_("An executed solution line cannot be changed."))
        cases = self.case_id if set(vals) & set(APPROVED_LINE_FIELDS) else self.env["complaint.case"]
        result = super().write(vals)
        cases._approval_restart(_("a solution line was changed."))
        return result

    def unlink(self):
        if self.filtered(lambda l: l.execution_state == "done"):
            raise UserError(_("An executed solution line cannot be deleted."))
        cases = self.case_id
        result = super().unlink()
        cases.exists()._approval_restart(_("a solution line was removed."))
        return result

    # ------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------
    def _check_can_execute(self, transition):
        """The step `transition` on lines of approved cases being carried out."""
        self._check_transition(transition)
        label = self._transitions[transition].label._translate(self.env.lang or "en_US")
        for line in self:
            case = line.case_id.sudo()
            case._check_approved(label)
            if case.state not in ("in_execution", "replied", "follow_up"):
                raise UserError(
                    _("Case %s is not being carried out yet; start its execution first.", case.name)
                )

    def _refund_invoice(self):
        """The posted customer invoice of the case's order to refund."""
        self.ensure_one()
        order = self.case_id.sudo().sale_order_id
        if not order:
            raise UserError(
                _("Case %s has no sales order: the refund cannot be drawn from an invoice.",
                  self.case_id.sudo().name)
            )
        invoices = order.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        )
        if not invoices:
            raise UserError(
                _("Sales order %s has no posted invoice to refund.", order.name)
            )
        return invoices.sorted("invoice_date", reverse=True)[:1]

    def action_create_credit_note(self):
        """Refund: a draft credit note reversing the order's invoice, for the
        order lines concerned when the case names them. Finance checks the
        amount and posts it."""
        self._check_can_execute("action_create_credit_note")
        for line in self:
            if line.solution_type != "refund":
                raise UserError(_("Only a refund creates a credit note."))
            if line.credit_note_id:
                raise UserError(_("This refund already has credit note %s.", line.credit_note_id.name))
            case = line.case_id.sudo()
            invoice = line._refund_invoice().sudo()
            reference = _("Complaint %(case)s: refund %(amount)s %(currency)s",
                          case=case.name, amount=line.amount, currency=line.currency_id.name)
            with invoice._complaint_refund_step():
                credit_note = invoice._reverse_moves(
                    default_values_list=[{
                        "ref": reference,
                        "invoice_date": fields.Date.context_today(line),
                        "complaint_case_id": case.id,
                    }],
                    cancel=False,
                )
            concerned = case.sale_line_ids
            if concerned:
                others = credit_note.invoice_line_ids.filtered(
                    lambda l: l.display_type == "product" and not (l.sale_line_ids & concerned)
                )
                if others and others != credit_note.invoice_line_ids.filtered(
                    lambda l: l.display_type == "product"
                ):
                    credit_note.write({"invoice_line_ids": [fields.Command.unlink(l.id) for l in others]})
            line.sudo()._workflow_write({"credit_note_id": credit_note.id, "invoice_id": invoice.id})
            case.message_post(
                body=_("Draft credit note %(move)s created from invoice %(invoice)s for the refund.",
                       move=credit_note._get_html_link(), invoice=invoice._get_html_link()),
                subtype_xmlid="mail.mt_note",
            )
            line._fit_credit_note_to_refund(credit_note)
        return True

    def _fit_credit_note_to_refund(self, credit_note):
        """The approved refund, not the whole invoice: scale the prices of the
        credit note's lines so that its total (taxes included) is the refund
        amount. A refund above what the invoice allows keeps the full
        reversal, and the case says so for finance to check."""
        self.ensure_one()
        refund = self.currency_id._convert(
            self.amount, credit_note.currency_id, credit_note.company_id, credit_note.invoice_date,
        )
        total = credit_note.amount_total
        currency = credit_note.currency_id
        if not total or currency.compare_amounts(refund, total) == 0:
            return
        if currency.compare_amounts(refund, total) > 0:
            self.case_id.sudo().message_post(
                body=_("The refund (%(refund)s) is more than invoice %(invoice)s allows (%(total)s): the draft "
                       "credit note reverses the whole invoice; finance is to settle the rest otherwise.",
                       refund=formatLang(self.env, refund, currency_obj=currency), invoice=self.invoice_id.name,
                       total=formatLang(self.env, total, currency_obj=currency)),
                subtype_xmlid="mail.mt_note",
            )
            return
        factor = refund / total
        product_lines = credit_note.invoice_line_ids.filtered(lambda l: l.display_type == "product")
        credit_note.write({"invoice_line_ids": [
            fields.Command.update(l.id, {"price_unit": l.price_unit * factor}) for l in product_lines
        ]})
        # Rounding of prices and taxes may leave a cent: on the largest line.
        difference = refund - credit_note.amount_total
        largest = max(product_lines, key=lambda l: abs(l.price_total), default=None)
        if largest and not currency.is_zero(difference) and largest.quantity:
            ratio = largest.price_subtotal / largest.price_total if largest.price_total else 1.0
            largest.price_unit += difference * ratio / largest.quantity

    def action_link_transfers(self):
        """Exchange / return: link the order's incoming and outgoing transfers
        when Inventory is installed."""
        self._check_can_execute("action_link_transfers")
        if "stock.picking" not in self.env:
            raise UserError(
                _("Inventory is not installed: record the return and replacement deliveries by reference.")
            )
        for line in self:
            order = line.case_id.sudo().sale_order_id
            pickings = self.env["stock.picking"].sudo().search(
                [("origin", "=", order.name)] if order else [("id", "=", 0)], order="id desc"
            )
            incoming = pickings.filtered(lambda p: p.picking_type_code == "incoming")[:1]
            outgoing = pickings.filtered(lambda p: p.picking_type_code == "outgoing")[:1]
            vals = {}
            if incoming:
                vals.update(return_picking_ref=f"stock.picking,{incoming.id}", return_reference=incoming.name)
            if outgoing and line.solution_type == "exchange":
                vals.update(replacement_picking_ref=f"stock.picking,{outgoing.id}",
                            replacement_reference=outgoing.name)
            if vals:
                line.sudo().write(vals)
        return True

    def action_mark_executed(self):
        self._check_can_execute("action_mark_executed")
        for line in self:
            if line.solution_type == "refund" and not line.credit_note_id:
                raise UserError(_("Create the credit note of the refund first."))
            if line.solution_type == "exchange" and not (line.return_reference and line.replacement_reference):
                raise UserError(_("Record the return and the replacement deliveries of the exchange first."))
        self.sudo()._workflow_write({
            "execution_state": "done",
            "execution_date": fields.Date.context_today(self),
            "executed_by_id": self.env.user.id,
        })
        for case in self.case_id.sudo():
            case.message_post(
                body=_("Solution executed: %s.", ", ".join(
                    dict(self._fields["solution_type"]._description_selection(self.env))[l.solution_type]
                    for l in self.filtered(lambda l: l.case_id == case)
                )),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_open_credit_note(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.credit_note_id.id,
            "view_mode": "form",
        }
