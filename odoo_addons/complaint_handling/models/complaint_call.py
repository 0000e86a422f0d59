from odoo import api, fields, models

CALL_STATUSES = [
    ("ringing", "Ringing"),
    ("in_progress", "In Progress"),
    ("completed", "Completed"),
    ("no_answer", "No Answer"),
    ("busy", "Busy"),
    ("failed", "Failed"),
]
# The systems the webhook bridge delivers from, as a person reads them.
SOURCE_SYSTEM_NAMES = {
    "aircall": "Aircall",
    "asterisk": "Asterisk",
    "twilio": "Twilio",
    "yeastar": "Yeastar",
    "typeform": "Typeform",
    "jotform": "Jotform",
}


def source_system_label(env, code):
    """The source system's name for display, in the reader's language; an
    unknown code as written."""
    if not code:
        return False
    generic = {
        "generic_phone": env._("Phone system"),
        "generic_form": env._("Web form"),
        "form": env._("Web form"),
        "portal": env._("Customer portal"),
    }
    return generic.get(code) or SOURCE_SYSTEM_NAMES.get(code) or code.replace("_", " ").title()


def format_duration(seconds):
    """412 -> '6:52'; an hour or more -> '1:02:05'."""
    if not seconds:
        return False
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# A later event never downgrades a call: a status of lower rank is ignored.
STATUS_RANK = {"ringing": 0, "in_progress": 1, "completed": 2, "no_answer": 2, "busy": 2, "failed": 2}
EVENT_FIELDS = (
    "direction", "start", "answer", "end", "duration", "billsec", "caller_number",
    "callee_number", "agent", "recording_url",
)


class ComplaintCall(models.Model):
    """A phone call record from the telephony system, attached to a case."""

    _name = "complaint.call"
    _description = "Complaint Call Record"
    _inherit = ["complaint.workflow.mixin"]
    _order = "start desc, id desc"
    _rec_name = "call_id"
    _check_company_auto = True

    case_id = fields.Many2one(
        "complaint.case", required=True, ondelete="cascade", index=True, check_company=True,
    )
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index="btree_not_null", check_company=True)
    source_system = fields.Char(required=True)
    call_id = fields.Char(string="Call ID", required=True)
    direction = fields.Selection([("inbound", "Inbound"), ("outbound", "Outbound")], default="inbound")
    status = fields.Selection(CALL_STATUSES, default="completed", required=True)
    start = fields.Datetime()
    answer = fields.Datetime(string="Answered")
    end = fields.Datetime()
    duration = fields.Integer(string="Duration (s)")
    billsec = fields.Integer(string="Talk Time (s)")
    caller_number = fields.Char()
    callee_number = fields.Char()
    agent = fields.Char()
    recording_url = fields.Char(string="Recording")
    duration_display = fields.Char(string="Duration", compute="_compute_displays")
    billsec_display = fields.Char(string="Talk Time", compute="_compute_displays")
    source_system_label = fields.Char(string="Received Through", compute="_compute_displays")

    _sql_constraints = [
        ("call_uniq", "unique(source_system, call_id)", "This call is already recorded."),
    ]

    def _merge_event(self, vals):
        """Upsert a later event of the same call without downgrading it.

        A newer-or-equal status overwrites what it carries; an older status
        only fills fields still empty. Returns True when anything changed.
        """
        self.ensure_one()
        newer = STATUS_RANK[vals.get("status", self.status)] >= STATUS_RANK[self.status]
        updates = {}
        for fname in EVENT_FIELDS + ("status",):
            value = vals.get(fname)
            if value in (None, False, 0, "") or value == self[fname]:
                continue
            if newer or not self[fname]:
                updates[fname] = value
        if updates:
            self.write(updates)
        return bool(updates)

    @api.depends("duration", "billsec", "source_system")
    @api.depends_context("lang")
    def _compute_displays(self):
        for call in self:
            call.duration_display = format_duration(call.duration)
            call.billsec_display = format_duration(call.billsec)
            call.source_system_label = source_system_label(self.env, call.source_system)

    @api.depends("call_id", "caller_number")
    def _compute_display_name(self):
        for call in self:
            call.display_name = " ".join(filter(None, [call.caller_number, call.call_id]))
