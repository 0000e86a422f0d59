from datetime import timedelta

from odoo import _, api, fields, models

from .complaint_case import END_STATES


class ComplaintCase(models.Model):
    """Records: optional bulk archiving once the retention period is over,
    and what an audit export holds of each case (history, attachments)."""

    _inherit = "complaint.case"

    @api.model
    def _retention_expired_domain(self, company, now=None):
        limit = (now or fields.Datetime.now()) - timedelta(days=company.complaint_retention_days)
        return [
            ("company_id", "=", company.id),
            ("state", "in", END_STATES),
            ("close_date", "!=", False),
            ("close_date", "<=", limit),
        ]

    @api.model
    def _cron_archive_after_retention(self, batch_size=1000):
        """Archive ended cases past their retention period, for the companies
        that enabled it; in batches. Archiving never deletes anything."""
        archived = 0
        for company in self.env["res.company"].sudo().search([("complaint_archive_enabled", "=", True)]):
            domain = self._retention_expired_domain(company)
            while True:
                cases = self.sudo().search(domain, limit=batch_size, order="id")
                if not cases:
                    break
                cases.write({"active": False})
                archived += len(cases)
                cases.flush_recordset()
        return archived

    # ------------------------------------------------------------------
    # Audit export
    # ------------------------------------------------------------------
    def _audit_documents(self):
        """The records whose history and files belong to the case's dossier:
        the case itself and its contact sheets."""
        self.ensure_one()
        return [self.sudo()] + list(self.sudo().contact_sheet_ids)

    def _audit_history(self):
        """Every message, note and recorded change of the case and of its
        contact sheets, oldest first, as the dossier prints them."""
        self.ensure_one()
        entries = []
        for document in self._audit_documents():
            for message in document.message_ids:
                changes = [
                    (change["changedField"], change["oldValue"]["value"], change["newValue"]["value"])
                    for change in message.tracking_value_ids._tracking_value_format()
                ]
                if not changes and not message.body and not message.attachment_ids:
                    continue
                entries.append({
                    "date": message.date,
                    "document": document.display_name,
                    "author": message.author_id.display_name or message.email_from or "",
                    "kind": self._audit_message_kind(message),
                    "body": message.body,
                    "changes": [(name, self._audit_value(old), self._audit_value(new)) for name, old, new in changes],
                    "attachments": message.attachment_ids.mapped("name"),
                    "id": message.id,
                })
        return sorted(entries, key=lambda entry: (entry["date"], entry["id"]))

    @staticmethod
    def _audit_value(value):
        if value is True:
            return _("Yes")
        if value is False or value is None:
            return ""
        return str(value)

    def _audit_message_kind(self, message):
        if message.message_type == "email":
            return _("E-mail")
        if message.message_type == "notification" or message.tracking_value_ids:
            return _("Change")
        if message.subtype_id.internal or message.is_internal:
            return _("Internal note")
        return _("Message")

    def _audit_attachments(self):
        """The files of the case and of its contact sheets, chatter
        attachments included."""
        self.ensure_one()
        domain = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        sheets = self.sudo().contact_sheet_ids
        if sheets:
            domain = ["|", "&", ("res_model", "=", sheets._name), ("res_id", "in", sheets.ids)] + [
                "&"] + domain
        return self.env["ir.attachment"].sudo().search(domain, order="id")
