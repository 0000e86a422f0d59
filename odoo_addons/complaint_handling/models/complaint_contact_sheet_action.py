from odoo import _, _lt, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import Transition

ACTION_TYPES = [
    ("corrective", "Corrective"),
    ("preventive", "Preventive"),
]
ACTIVITY_TYPE = "complaint_handling.mail_activity_type_contact_sheet_action"
# What the countermeasure unit defines while it proposes the countermeasure.
DEFINITION_FIELDS = ("name", "action_type", "user_id", "date_deadline", "sheet_id")
# The sheet's steps while its actions are carried out.
EXECUTION_STATES = ("countermeasure", "acceptance", "arbitration", "verification")


class ComplaintContactSheetAction(models.Model):
    _name = "complaint.contact.sheet.action"
    _description = "Contact Sheet Corrective or Preventive Action"
    _inherit = ["complaint.followup.action.mixin"]
    _followup_activity_type = ACTIVITY_TYPE
    _transitions = {
        "action_done": Transition(_lt("mark done"), ("todo",), party="_is_owner_or_unit"),
        "action_cancel": Transition(_lt("cancel"), ("todo",), party="_is_sheet_unit"),
    }
    _check_company_auto = True

    sheet_id = fields.Many2one(
        "complaint.contact.sheet", string="Contact Sheet", required=True, ondelete="cascade", index=True,
        check_company=True,
    )
    case_id = fields.Many2one(related="sheet_id.case_id", store=True, index=True)
    company_id = fields.Many2one(related="sheet_id.company_id", store=True)
    department_id = fields.Many2one(
        related="sheet_id.countermeasure_department_id", string="Countermeasure Unit", store=True,
    )
    cause_category = fields.Selection(related="sheet_id.cause_category", store=True)
    action_type = fields.Selection(ACTION_TYPES, string="Type", required=True, default="corrective")

    # ------------------------------------------------------------------
    # Who may do what
    # ------------------------------------------------------------------
    def _check_definition_allowed(self, sheets):
        """Only the countermeasure unit defines actions, while it proposes."""
        if self.env.su:
            return
        for sheet in sheets:
            if not sheet._is_unit_party(self.env.user):
                raise AccessError(
                    _("Only the countermeasure unit (%(unit)s) defines the actions of contact sheet "
                      "%(number)s.", unit=sheet.countermeasure_department_id.display_name or _("none yet"),
                      number=sheet.name)
                )
            if sheet.state != "countermeasure":
                raise UserError(
                    _("The actions of contact sheet %s are defined while the unit proposes the "
                      "countermeasure; send it back to the unit to change them.", sheet.name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        sheets = self.env["complaint.contact.sheet"].browse({v.get("sheet_id") for v in vals_list})
        self._check_definition_allowed(sheets)
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) & set(DEFINITION_FIELDS):
            self._check_definition_allowed(self.sheet_id)
            if "sheet_id" in vals:
                self._check_definition_allowed(self.env["complaint.contact.sheet"].browse(vals["sheet_id"]))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_while_defining(self):
        self._check_definition_allowed(self.sheet_id)

    def _followup_summary(self):
        self.ensure_one()
        return _("%(sheet)s: %(action)s", sheet=self.sheet_id.name, action=self.name)

    def _is_owner_or_unit(self, user):
        return user == self.user_id or self.sheet_id._is_unit_party(user)

    def _is_sheet_unit(self, user):
        return self.sheet_id._is_unit_party(user)

    def action_done(self):
        self._check_transition("action_done")
        for action in self:
            if action.sheet_id.state not in EXECUTION_STATES:
                raise UserError(
                    _("Action '%(action)s' belongs to contact sheet %(sheet)s, which is not being "
                      "carried out.", action=action.name, sheet=action.sheet_id.name)
                )
            action._mark_done()
            action.sheet_id.message_post(
                body=_("Action done: %(action)s (%(owner)s). %(result)s", action=action.name,
                       owner=action.user_id.name, result=action.result_note),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._check_definition_allowed(self.sheet_id)
        self._cancel_followup()
        return True
