from odoo import models


class SmsSms(models.Model):
    _inherit = "sms.sms"

    def _handle_call_result_hook(self, results):
        """A complaint's acknowledgement SMS handed to the provider stamps the
        case's first response; one refused marks the acknowledgement failed."""
        result = super()._handle_call_result_hook(results)
        messages = self.filtered(lambda s: s.mail_message_id.model == "complaint.case").mail_message_id
        cases = self.env["complaint.case"]._acknowledgements_of(messages.ids)
        if cases:
            sent = self.filtered(lambda s: s.state in ("pending", "sent")).mail_message_id
            cases.filtered(lambda c: c.acknowledgement_message_id in sent)._acknowledgement_sent()
            failed = self.filtered(lambda s: s.state == "error").mail_message_id
            cases.filtered(lambda c: c.acknowledgement_message_id in failed)._acknowledgement_failed()
        return result
