from odoo import api, models


class ReportComplaintCaseDossier(models.AbstractModel):
    """The dossier reads the case and its history with elevated rights;
    Odoo does not check that the reader may read the records of a report,
    so the dossier is printed only for who may read the case."""

    _name = "report.complaint_handling.report_complaint_case_dossier"
    _description = "Complaint Dossier Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        cases = self.env["complaint.case"].browse(docids)
        cases.check_access("read")
        return {"doc_ids": docids, "doc_model": "complaint.case", "docs": cases}
