from odoo import api, fields, models

ALIAS_XMLID = "complaint_handling.mail_alias_complaints"


class ResConfigSettings(models.TransientModel):
    """The complaints mail alias (complaints@<domain>), as hr_expense shows its own."""

    _inherit = "res.config.settings"

    complaint_alias_prefix = fields.Char(string="Complaints Alias")
    complaint_alias_domain_id = fields.Many2one("mail.alias.domain", string="Complaints Alias Domain")

    @api.model
    def get_values(self):
        res = super().get_values()
        alias = self.env.ref(ALIAS_XMLID, raise_if_not_found=False)
        res.update(
            complaint_alias_prefix=alias.alias_name if alias else False,
            complaint_alias_domain_id=alias.alias_domain_id.id if alias else False,
        )
        return res

    def set_values(self):
        super().set_values()
        alias = self.env.ref(ALIAS_XMLID, raise_if_not_found=False)
        if not alias:
            if not self.complaint_alias_prefix:
                return
            alias = self.env["mail.alias"].sudo().create({
                "alias_contact": "everyone",
                "alias_model_id": self.env["ir.model"]._get_id("complaint.case"),
                "alias_defaults": "{'channel': 'email'}",
            })
            self.env["ir.model.data"].sudo().create({
                "name": ALIAS_XMLID.split(".")[1], "module": "complaint_handling",
                "model": "mail.alias", "noupdate": True, "res_id": alias.id,
            })
        values = {}
        if alias.alias_name != (self.complaint_alias_prefix or False):
            values["alias_name"] = self.complaint_alias_prefix
        if alias.alias_domain_id != self.complaint_alias_domain_id:
            values["alias_domain_id"] = self.complaint_alias_domain_id.id
        if values:
            alias.sudo().write(values)
