from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    complaint_ids = fields.One2many(
        "complaint.case", "sale_order_id", string="Complaints",
        groups="complaint_handling.group_complaint_user",
    )
    complaint_count = fields.Integer(
        compute="_compute_complaint_count", groups="complaint_handling.group_complaint_user"
    )

    def _compute_complaint_count(self):
        counts = dict(
            self.env["complaint.case"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.complaint_count = counts.get(order, 0)

    def action_view_complaints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "complaint_handling.complaint_case_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {
            "default_sale_order_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        if self.complaint_count == 1:
            action.update(view_mode="form", res_id=self.complaint_ids.id, views=[(False, "form")])
        return action
