import base64
import binascii
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..tools import workflow_step

_logger = logging.getLogger(__name__)

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


GROUP_OFFICER = "complaint_handling.group_complaint_officer"
GROUP_INTAKE = "complaint_handling.group_complaint_intake"


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
    # The recording's audio, archived by the webhook bridge (archive_recording): an
    # attachment of the case, so it follows the case's access rules and retention.
    recording_status = fields.Selection(
        [("archived", "Archived"), ("failed", "Not Archived")], readonly=True, copy=False,
        string="Recording Archive",
    )
    recording_error = fields.Char(string="Recording Problem", readonly=True, copy=False)
    recording_ref = fields.Char(readonly=True, copy=False)
    recording_attachment_id = fields.Many2one(
        "ir.attachment", string="Recording Audio", readonly=True, copy=False, ondelete="set null",
    )
    recording_player = fields.Html(
        string="Recording Player", compute="_compute_recording_player", sanitize=False,
    )
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

    @api.depends("recording_attachment_id")
    def _compute_recording_player(self):
        """An HTML5 player of the archived audio; the browser fetches it from
        /web/content, which checks the reader's access to the case."""
        for call in self:
            attachment = call.sudo().recording_attachment_id
            call.recording_player = attachment and Markup(
                '<audio controls="controls" preload="none" src="/web/content/%s">%s</audio>'
            ) % (attachment.id, attachment.name)

    @api.model
    def archive_recording(self, reports):
        """Store recordings fetched by the webhook bridge with their calls.

        :param list reports: dicts ``{source_system, call_id, recording_ref, url,
            name, mimetype, data (base64)}``, or with ``error`` (why the bridge
            could not fetch it) instead of the audio
        :return: one dict per report: ``{status: archived|duplicate|failed|
            waiting|error, error}``; ``waiting``: the call is not here yet

        Idempotent on (call, recording_ref): the same recording is stored once.
        """
        user = self.env.user
        if not (user.has_group(GROUP_INTAKE) or user.has_group(GROUP_OFFICER)):
            raise AccessError(self.env._(
                "Only the complaint intake user or complaint officers may archive recordings."))
        if not isinstance(reports, list):
            raise ValidationError(self.env._("archive_recording expects a list of reports"))
        results = []
        for index, report in enumerate(reports):
            try:
                with self.env.cr.savepoint(), workflow_step(self._name):
                    results.append(self._archive_recording_one(report))
            except ValueError as error:
                results.append({"status": "error", "error": self.env._(
                    "report %(index)s: %(error)s", index=index, error=error)})
        return results

    @api.model
    def _archive_recording_one(self, report):
        env = self.env
        if not isinstance(report, dict):
            raise ValueError(env._("expected an object"))

        def text(key, required=True, size=2048):
            value = report.get(key)
            if value in (None, False, ""):
                if required:
                    raise ValueError(env._("field '%(field)s': required", field=key))
                return False
            if not isinstance(value, str) or len(value) > size:
                raise ValueError(env._("field '%(field)s': expected text of at most %(max)s "
                                       "characters", field=key, max=size))
            return value

        system, call_id = text("source_system", size=64), text("call_id", size=256)
        ref, error = text("recording_ref", size=64), text("error", required=False, size=1000)
        call = self.sudo().search([
            ("source_system", "=", system), ("call_id", "=", call_id),
            ("company_id", "in", env.user.company_ids.ids),
        ], limit=1)
        if not call:
            return {"status": "waiting", "error": env._(
                "no call %(call)s from %(system)s yet", call=call_id, system=system)}
        env.cr.execute("SELECT id FROM complaint_call WHERE id = %s FOR UPDATE", [call.id])
        if call.recording_status == "archived" and (call.recording_ref == ref or error):
            return {"status": "duplicate", "error": False}
        case = call.case_id.with_context(mail_create_nosubscribe=True)
        if error:
            call.write({"recording_status": "failed", "recording_error": error,
                        "recording_ref": ref})
            case.message_post(body=env._(
                "The recording of call %(call)s could not be archived: %(reason)s",
                call=call.display_name, reason=error), subtype_xmlid="mail.mt_note")
            return {"status": "failed", "error": False}
        data, mimetype = text("data", size=10**9), text("mimetype", size=128)
        if not mimetype.startswith("audio/"):
            raise ValueError(env._("field 'mimetype': %(value)r is not audio", value=mimetype))
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(env._("field 'data': not valid base64")) from None
        # Created pending, as the composer does: posting binds it to the case.
        attachment = env["ir.attachment"].sudo().create({
            "name": text("name", size=256), "datas": data, "mimetype": mimetype,
            "res_model": "mail.compose.message", "res_id": 0,
            "description": env._("Recording of call %(call)s", call=call.display_name),
        })
        case.message_post(body=env._("Recording of call %(call)s archived.", call=call.display_name),
                          attachment_ids=attachment.ids, subtype_xmlid="mail.mt_note")
        if (attachment.res_model, attachment.res_id) != (case._name, case.id):
            raise ValueError(env._("the recording could not be attached to the case"))
        call.write({"recording_status": "archived", "recording_error": False,
                    "recording_ref": ref, "recording_attachment_id": attachment.id})
        _logger.info("recording archived: call %s, attachment %s", call.id, attachment.id)
        return {"status": "archived", "error": False}

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
