from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        """A complaint's acknowledgement e-mail that left stamps the case's
        first response; one that failed marks the acknowledgement failed."""
        acknowledgements = self.filtered(lambda m: m.model == "complaint.case" and m.mail_message_id)
        if acknowledgements:
            cases = self.env["complaint.case"]._acknowledgements_of(acknowledgements.mail_message_id.ids)
            if cases:
                sent = acknowledgements.filtered(lambda m: m.state == "sent").mail_message_id
                cases.filtered(lambda c: c.acknowledgement_message_id in sent)._acknowledgement_sent()
                failed = acknowledgements.filtered(lambda m: m.state == "exception").mail_message_id
                cases.filtered(lambda c: c.acknowledgement_message_id in failed)._acknowledgement_failed()
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
