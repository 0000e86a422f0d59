from odoo import api, fields, models

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
    complaint_audit_export_sync_limit = fields.Integer(
        string="Audit Export at Once Up To (cases)", default=100,
        help="An audit export of up to this many cases is built at once; a larger one by a scheduled "
        "action, which notifies the requester when the ZIP is ready.",
    )
    complaint_archive_enabled = fields.Boolean(
        string="Archive Ended Complaints After Retention",
        help="A scheduled action archives ended cases once their retention period is over.",
    )

    complaint_report_group_ids = fields.Many2many(
        "res.groups", "res_company_complaint_report_group_rel", "company_id", "group_id",
        string="Monthly Report Groups",
        help="Users of these groups receive the monthly complaint report; empty: the general "
        "manager's office and quality assurance.",
    )
    complaint_report_partner_ids = fields.Many2many(
        "res.partner", "res_company_complaint_report_partner_rel", "company_id", "partner_id",
        string="Monthly Report Contacts", check_company=True,
        help="Further recipients of the monthly complaint report.",
    )
    complaint_report_last_month = fields.Date(
        string="Last Monthly Report", readonly=True,
        help="First day of the month the last scheduled monthly report covered.",
    )

    def _complaint_report_recipients(self):
        """Partners who receive the monthly report of this company."""
        self.ensure_one()
        groups = self.complaint_report_group_ids or (
            self.env.ref("complaint_handling.group_complaint_gm_office")
            | self.env.ref("complaint_handling.group_complaint_quality")
        )
        users = groups.sudo().users.filtered(
            lambda u: u.active and not u.share and self in u.company_ids
        ) - self.env.ref("base.user_root")
        return users.partner_id | self.complaint_report_partner_ids

    _sql_constraints = [
        ("complaint_recurrence_count_min", "CHECK(complaint_recurrence_count >= 2)",
         "A problem recurs from two cases on."),
        ("complaint_recurrence_days_positive", "CHECK(complaint_recurrence_days > 0)",
         "The recurrence window is at least one day."),
        ("complaint_audit_export_sync_limit_positive", "CHECK(complaint_audit_export_sync_limit >= 0)",
         "Audit Export at Once Up To: zero (always in the background) or more cases."),
    ]

    @api.constrains("complaint_report_partner_ids")
    def _check_complaint_report_partners_company(self):
        self._check_company(["complaint_report_partner_ids"])
