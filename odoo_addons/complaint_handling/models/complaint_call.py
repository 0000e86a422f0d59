from odoo import api, fields, models

CALL_STATUSES = [
    ("ringing", "Ringing"),
    ("in_progress", "In Progress"),
    ("completed", "Completed"),
    ("no_answer", "No Answer"),
    ("busy", "Busy"),
    ("failed", "Failed"),
]
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

    @api.depends("call_id", "caller_number")
    def _compute_display_name(self):
        for call in self:
            call.display_name = " ".join(filter(None, [call.caller_number, call.call_id]))
