from odoo import fields, models

RECURRENCE_ACTIONS = [
    ("activity", "Activity for Quality Assurance"),
    ("contact_sheet", "Open a Contact Sheet"),
]


class ResCompany(models.Model):
    """Settings of the analysis side: recurrence detection and bulk archiving."""

    _inherit = "res.company"

    complaint_recurrence_count = fields.Integer(
        string="Recurring After (cases)", default=3,
        help="The same product and category reaching this many cases within the window is recurring.",
    )
    complaint_recurrence_days = fields.Integer(
        string="Recurrence Window (days)", default=30,
        help="Cases received within this many days of each other count together.",
    )
    complaint_recurrence_action = fields.Selection(
        RECURRENCE_ACTIONS, string="On Recurrence", default="activity",
        help="What happens when a problem recurs: quality assurance gets an activity, "
        "or a contact sheet is opened on the first case of the series.",
    )
    complaint_archive_enabled = fields.Boolean(
        string="Archive Ended Complaints After Retention",
        help="A scheduled action archives ended cases once their retention period is over.",
    )

    _sql_constraints = [
        ("complaint_recurrence_count_min", "CHECK(complaint_recurrence_count >= 2)",
         "A problem recurs from two cases on."),
        ("complaint_recurrence_days_positive", "CHECK(complaint_recurrence_days > 0)",
         "The recurrence window is at least one day."),
    ]
