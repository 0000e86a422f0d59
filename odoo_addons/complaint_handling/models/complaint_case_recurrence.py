from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.tools import create_index

from .complaint_contact_sheet import CLOSED_SHEET_STATES

GROUP_QUALITY = "complaint_handling.group_complaint_quality"
RECURRENCE_ACTIVITY = "complaint_handling.mail_activity_type_complaint_recurrence"


class ComplaintCase(models.Model):
    """Recurrence detection: the same product and category, or the same
    product and root-cause category found by contact sheets, reaching N cases
    within M days (company settings) flags the cases recurring, links them to
    the first case of the series, and asks quality assurance once to trace
    the root cause."""

    _inherit = "complaint.case"

    is_recurring = fields.Boolean(
        string="Recurring", readonly=True, copy=False, index="btree_not_null",
        help="The same product and category, or the same product and root-cause category, reached "
             "the recurrence threshold within the window.",
    )
    recurrence_root_id = fields.Many2one(
        "complaint.case", string="Recurrence Series", readonly=True, copy=False,
        index="btree_not_null", ondelete="set null", check_company=True,
        help="The first case of the series of recurring cases this case belongs to.",
    )
    recurrence_case_ids = fields.Many2many(
        "complaint.case", string="Recurring Cases", compute="_compute_recurrence_case_ids",
        help="The other cases of the same recurrence series.",
    )
    recurrence_count = fields.Integer(string="Cases in Series", compute="_compute_recurrence_case_ids")

    def init(self):
        super().init()
        # The recurrence check of one new case, the monthly figures and the
        # dashboard's month counters all read cases by date.
        create_index(
            self.env.cr, "complaint_case_recurrence_index", self._table,
            ["product_id", "category_id", "received_date"], where="product_id IS NOT NULL",
        )
        create_index(self.env.cr, "complaint_case_received_date_index", self._table, ["received_date"])

    @api.depends("recurrence_root_id")
    def _compute_recurrence_case_ids(self):
        roots = self.recurrence_root_id
        groups = {}
        if roots:
            for case in self.sudo().search([("recurrence_root_id", "in", roots.ids)]):
                groups.setdefault(case.recurrence_root_id.id, []).append(case.id)
        for case in self:
            ids = [i for i in groups.get(case.recurrence_root_id.id, []) if i != case.id]
            case.recurrence_case_ids = [fields.Command.set(ids)]
            case.recurrence_count = len(ids) + 1 if case.recurrence_root_id else 0

    # ------------------------------------------------------------------
    # Detection
    # ------------------------------------------------------------------
    def _recurrence_siblings(self):
        """Ids of the cases counting with this one, oldest first: same company,
        product and category, received within the window before it, not
        cancelled. One query on the (product, category, received) index."""
        self.ensure_one()
        self.env.cr.execute(
            """
            SELECT id, recurrence_root_id
              FROM complaint_case
             WHERE product_id = %s AND category_id = %s AND company_id = %s
               AND received_date > %s AND received_date <= %s
               AND active AND state != 'cancelled'
             ORDER BY received_date, id
            """,
            (self.product_id.id, self.category_id.id, self.company_id.id, *self._recurrence_window()),
        )
        return self.env.cr.fetchall()

    def _cause_recurrence_siblings(self, product, cause_category):
        """Like `_recurrence_siblings`, keyed on the root-cause category that
        contact sheets found for the product instead of the case category."""
        self.ensure_one()
        self.env.cr.execute(
            """
            SELECT DISTINCT c.id, c.recurrence_root_id, c.received_date
              FROM complaint_contact_sheet s
              JOIN complaint_case c ON c.id = s.case_id
             WHERE s.cause_category = %s AND COALESCE(s.product_id, c.product_id) = %s
               AND s.state != 'cancelled' AND c.company_id = %s
               AND c.received_date > %s AND c.received_date <= %s
               AND c.active AND c.state != 'cancelled'
             ORDER BY c.received_date, c.id
            """,
            (cause_category, product.id, self.company_id.id, *self._recurrence_window()),
        )
        return [(case_id, root) for case_id, root, _received in self.env.cr.fetchall()]

    def _recurrence_window(self):
        days = self.company_id.complaint_recurrence_days or 30
        return self.received_date - timedelta(days=days), self.received_date

    def _recurrence_keys(self):
        """Each way this case can recur: (siblings, product, problem label).
        By product and category, and by product and the root-cause category
        of each of its contact sheets."""
        self.ensure_one()
        keys = []
        if self.product_id and self.category_id:
            keys.append((self._recurrence_siblings(), self.product_id, self.category_id.display_name))
        causes = dict(self.env["complaint.contact.sheet"]._fields["cause_category"]._description_selection(self.env))
        sheet_keys = {
            (sheet.product_id or self.product_id, sheet.cause_category)
            for sheet in self.sudo().contact_sheet_ids
            if sheet.cause_category and sheet.state != "cancelled" and (sheet.product_id or self.product_id)
        }
        for product, cause in sorted(sheet_keys, key=lambda key: (key[0].id, key[1])):
            keys.append((
                self._cause_recurrence_siblings(product, cause), product,
                _("root cause: %s", causes[cause]),
            ))
        return keys

    def _check_recurrence(self):
        """Flag and link recurring cases; return the cases newly flagged."""
        candidates = self.filtered(lambda c: c.received_date and c.state != "cancelled")
        if not candidates:
            return self.browse()
        self.flush_model(["product_id", "category_id", "received_date", "company_id", "state", "active",
                          "recurrence_root_id"])
        self.env["complaint.contact.sheet"].flush_model(["case_id", "product_id", "cause_category", "state"])
        flagged = self.browse()
        for case in candidates:
            for rows, product, problem in case._recurrence_keys():
                if len(rows) < (case.company_id.complaint_recurrence_count or 3):
                    continue
                flagged |= case._link_recurrence_series(rows, product, problem)
        return flagged

    def _link_recurrence_series(self, rows, product, problem):
        """Join the cases of `rows` into one series, rooted at the oldest
        series among them (or their oldest case); a new series is announced
        to quality assurance once."""
        self.ensure_one()
        roots = sorted({root for _id, root in rows if root})
        series = self.sudo().browse([case_id for case_id, _root in rows])
        new_series = not roots
        root = self.sudo().browse(roots[0] if roots else rows[0][0])
        to_flag = series.filtered(lambda c: not c.is_recurring or c.recurrence_root_id != root)
        to_flag._workflow_write({"is_recurring": True, "recurrence_root_id": root.id})
        if new_series:
            root._recurrence_notify_quality(series, product, problem)
        elif self.sudo() in to_flag:
            self.sudo().message_post(
                body=_("This problem recurs: see the series of %s.", root._get_html_link()),
                subtype_xmlid="mail.mt_note",
            )
        return to_flag

    def _recurrence_quality_users(self):
        group = self.env.ref(GROUP_QUALITY)
        return group.users.filtered(
            lambda u: not u.share and u.active and u.id != SUPERUSER_ID and self.company_id in u.company_ids
        )

    def _recurrence_notify_quality(self, series, product, problem):
        """Quality assurance traces the root cause once for the whole series:
        an activity on the first case, or a contact sheet when configured."""
        self.ensure_one()
        numbers = ", ".join(series.mapped("name"))
        note = _(
            "%(count)s complaints about %(product)s (%(category)s) within %(days)s days: %(cases)s. "
            "Trace the root cause once for all of them.",
            count=len(series), product=product.display_name, category=problem,
            days=self.company_id.complaint_recurrence_days, cases=numbers,
        )
        self.message_post(body=note, subtype_xmlid="mail.mt_note")
        if (self.company_id.complaint_recurrence_action == "contact_sheet"
                and self._recurrence_open_contact_sheet(series, product, problem)):
            return
        for user in self._recurrence_quality_users():
            self.activity_schedule(RECURRENCE_ACTIVITY, user_id=user.id, note=note)

    def _recurrence_open_contact_sheet(self, series, product, problem):
        """Recurring problem, company set to open a contact sheet: one draft
        sheet on the first case of the series, for its handler to complete."""
        self.ensure_one()
        case = self.sudo()
        if not case.quality_related or case.state in ("closed", "rejected", "cancelled"):
            return False
        if case.contact_sheet_ids.filtered(lambda s: s.state not in CLOSED_SHEET_STATES):
            return True
        sales_user = case.user_id or case.create_uid
        sheet = self.env["complaint.contact.sheet"].sudo()._workflow_create({
            "case_id": case.id,
            "product_id": product.id,
            "sales_user_id": sales_user.id,
            "quantity_affected": len(series),
            "defect_description": _(
                "Recurring problem: %(count)s complaints about %(product)s (%(category)s): %(cases)s.",
                count=len(series), product=product.display_name,
                category=problem, cases=", ".join(series.mapped("name")),
            ),
        })
        sheet.activity_schedule(
            "complaint_handling.mail_activity_type_contact_sheet", user_id=sales_user.id,
            summary=_("Complete and submit contact sheet %s", sheet.name),
        )
        return True

    def action_view_recurring_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("complaint_handling.complaint_case_action")
        action["domain"] = [("recurrence_root_id", "=", self.recurrence_root_id.id)]
        action["context"] = {}
        return action
