from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from .complaint_contact_sheet import CLOSED_SHEET_STATES


class ComplaintCase(models.Model):
    """The case's side of the quality contact sheet: its sheets, and no
    closing while one of them is still open."""

    _inherit = "complaint.case"

    contact_sheet_ids = fields.One2many("complaint.contact.sheet", "case_id", string="Contact Sheets")
    contact_sheet_count = fields.Integer(compute="_compute_contact_sheet_count")
    open_contact_sheet_count = fields.Integer(compute="_compute_contact_sheet_count")

    @api.depends("contact_sheet_ids.state")
    def _compute_contact_sheet_count(self):
        for case in self:
            case.contact_sheet_count = len(case.contact_sheet_ids)
            case.open_contact_sheet_count = len(
                case.contact_sheet_ids.filtered(lambda s: s.state not in CLOSED_SHEET_STATES)
            )

    def _check_can_close(self):
        result = super()._check_can_close()
        for case in self:
            still_open = case.sudo().contact_sheet_ids.filtered(lambda s: s.state not in CLOSED_SHEET_STATES)
            if still_open:
                raise UserError(
                    _(
                        "Case %(number)s cannot close while contact sheet %(sheets)s is open: QA must "
                        "first confirm the corrective action effective.",
                        number=case.name, sheets=", ".join(still_open.mapped("name")),
                    )
                )
        return result

    def action_new_contact_sheet(self):
        """Sales issues a contact sheet from a quality-related case."""
        self.ensure_one()
        if not self.quality_related:
            raise UserError(
                _("Case %s is not quality-related: mark it 'Quality-related' before issuing a contact "
                  "sheet.", self.name)
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("New Contact Sheet"),
            "res_model": "complaint.contact.sheet",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_case_id": self.id,
                "default_product_id": self.product_id.id,
                "default_defect_description": html2plaintext(self.description or "").strip() or False,
            },
        }

    def action_view_contact_sheets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "complaint_handling.complaint_contact_sheet_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"default_case_id": self.id}
        return action
