from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.complaint_case import NOT_OUR_VERDICTS

REPLY_STATES = ("in_execution",)
EXPLANATION_STATES = ("acknowledged", "investigating", "solution_proposed")


class ComplaintReplyWizard(models.TransientModel):
    """Compose the formal written reply (or, when the cause is not ours, the
    written explanation), send it by e-mail or print it as a letter, record it
    on the case and move the case on."""

    _name = "complaint.reply.wizard"
    _description = "Reply to Customer"

    case_id = fields.Many2one("complaint.case", required=True, ondelete="cascade")
    kind = fields.Selection(
        [("reply", "Written Reply"), ("explanation", "Written Explanation (Not Our Responsibility)")],
        compute="_compute_kind", store=True, readonly=False,
    )
    lang = fields.Char(compute="_compute_lang", store=True, readonly=False, string="Language")
    basis = fields.Char(
        string="Basis", help="What the answer rests on: the policy, the contract clause or the inspection result.",
    )
    body = fields.Html(compute="_compute_body", store=True, readonly=False, sanitize_style=True)
    send_by = fields.Selection(
        [("email", "E-mail"), ("letter", "Printed Letter (PDF)")],
        compute="_compute_send_by", store=True, readonly=False,
    )

    @api.depends("case_id")
    def _compute_kind(self):
        for wizard in self:
            case = wizard.case_id
            wizard.kind = "explanation" if case.verdict in NOT_OUR_VERDICTS and case.state in EXPLANATION_STATES else "reply"

    @api.depends("case_id")
    def _compute_lang(self):
        for wizard in self:
            wizard.lang = wizard.case_id.partner_id.lang or self.env.lang or "en_US"

    @api.depends("case_id")
    def _compute_send_by(self):
        for wizard in self:
            case = wizard.case_id
            by_letter = case.channel in ("letter", "fax") or not case._customer_can_receive_email()
            wizard.send_by = "letter" if by_letter else "email"

    @api.depends("case_id", "kind", "basis", "lang")
    def _compute_body(self):
        for wizard in self:
            wizard.body = wizard.with_context(lang=wizard.lang)._compose_body()

    def _compose_body(self):
        """The draft in the customer's language: result, solution, basis,
        apology and thanks. The agent edits it before sending."""
        self.ensure_one()
        case = self.case_id
        verdicts = dict(case._fields["verdict"]._description_selection(self.env))
        parts = []
        if self.kind == "explanation":
            parts.append(_("Our investigation found that the cause lies with: %s.", verdicts.get(case.verdict, "")))
            if self.basis:
                parts.append(_("This is based on: %s.", self.basis))
            parts.append(_("We are sorry that we cannot give you the result you hoped for, and thank you for your understanding."))
            return Markup("").join(Markup("<p>%s</p>") % escape(p) for p in parts)
        parts.append(_("We have investigated your complaint and found its cause."))
        body = Markup("").join(Markup("<p>%s</p>") % escape(p) for p in parts)
        if case.solution_description:
            body += Markup("<p><strong>%s</strong></p>") % _("Our solution:") + case.solution_description
        if self.basis:
            body += Markup("<p>%s</p>") % _("This is based on: %s.", self.basis)
        body += Markup("<p>%s</p>") % _("We apologise for the inconvenience and thank you for helping us improve.")
        return body

    def action_send(self):
        self.ensure_one()
        case = self.case_id
        if not self.body or not Markup(self.body).striptags().strip():
            raise UserError(_("Write the reply before sending it."))
        if self.send_by == "email" and not case._customer_can_receive_email():
            raise UserError(_("Case %s has no e-mail address: print the reply as a letter.", case.name))
        if self.kind == "explanation":
            case.rejection_explanation = self.body
            case.action_reject()
            template = self.env.ref("complaint_handling.mail_template_complaint_explanation")
        else:
            case.reply_summary = self.body
            case.action_mark_replied()
            template = self.env.ref("complaint_handling.mail_template_complaint_reply")
        if self.send_by == "email":
            case._send_to_customer(template)
            return {"type": "ir.actions.act_window_close"}
        report = self.env.ref("complaint_handling.action_report_complaint_reply_letter")
        pdf, _format = report._render_qweb_pdf(report.report_name, case.ids)
        attachment = self.env["ir.attachment"].create({
            "name": _("Reply letter %s.pdf", case.name),
            "raw": pdf,
            "res_model": case._name,
            "res_id": case.id,
            "mimetype": "application/pdf",
        })
        case.message_post(
            body=_("Written reply printed as a letter for %s.", case.partner_id.name or case.customer_name or ""),
            attachment_ids=attachment.ids,
            subtype_xmlid="mail.mt_note",
        )
        return report.report_action(case)
