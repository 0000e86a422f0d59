from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    complaint_sheet_qa_hours = fields.Float(
        string="QA First Analysis Within (working hours)", default=2.0,
        help="QA's first analysis of a submitted contact sheet is due this many working hours later.",
    )
    complaint_sheet_reply_days = fields.Integer(
        string="Countermeasure Reply Within (working days)", default=7,
        help="The reply to the customer is due this many working days after a contact sheet is issued.",
    )
    complaint_action_reminder_days = fields.Integer(
        string="Remind Action Owners (days before due)", default=2,
        help="Owners of corrective and preventive actions are reminded this many days before the due date.",
    )

    _sql_constraints = [
        ("complaint_sheet_qa_hours_positive", "CHECK(complaint_sheet_qa_hours >= 0)",
         "QA's analysis time limit cannot be negative."),
        ("complaint_sheet_reply_days_positive", "CHECK(complaint_sheet_reply_days >= 0)",
         "The countermeasure reply time limit cannot be negative."),
        ("complaint_action_reminder_days_positive", "CHECK(complaint_action_reminder_days >= 0)",
         "The action reminder cannot be a negative number of days."),
    ]
