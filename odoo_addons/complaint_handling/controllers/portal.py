import base64
import uuid

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.portal.controllers.portal import CustomerPortal, pager as portal_pager

MAX_PHOTO_BYTES = 10 * 1024 * 1024


class ComplaintPortal(CustomerPortal):
    """/my/complaints: the customer's cases, their answer to our solution,
    their rating, and new complaints about their orders.

    Portal users get no access right on complaint cases: a case is shown
    only to the logged-in customer it belongs to, or to whoever holds its
    access token (the link in our e-mails); everything shown is chosen by
    the templates, never read through the ORM as the portal user."""

    _items_per_page = 20

    def _complaint_domain(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return [("partner_id", "child_of", partner.id)]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "complaint_count" in counters:
            user = request.env.user
            values["complaint_count"] = (
                request.env["complaint.case"].sudo().search_count(self._complaint_domain())
                if not user._is_public() else 0
            )
        return values

    def _complaint_check_access(self, case_id, access_token=None):
        """The case, sudoed, if it is the logged-in customer's or the token matches."""
        case = request.env["complaint.case"].sudo().browse(case_id).exists()
        if not case:
            raise MissingError(_("This complaint does not exist."))
        if access_token and case.access_token and consteq(case.access_token, access_token):
            return case
        user = request.env.user
        if not user._is_public() and case.partner_id and (
            case.partner_id.commercial_partner_id == user.partner_id.commercial_partner_id
        ):
            return case
        raise AccessError(_("You cannot see this complaint."))

    @http.route(["/my/complaints", "/my/complaints/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_complaints(self, page=1, **kw):
        Case = request.env["complaint.case"].sudo()
        domain = self._complaint_domain()
        total = Case.search_count(domain)
        pager = portal_pager(url="/my/complaints", total=total, page=page, step=self._items_per_page)
        cases = Case.search(domain, order="received_date desc, id desc", limit=self._items_per_page,
                            offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update({"cases": cases, "pager": pager, "page_name": "complaint", "default_url": "/my/complaints"})
        return request.render("complaint_handling.portal_my_complaints", values)

    @http.route("/my/complaints/<int:case_id>", type="http", auth="public", website=True)
    def portal_complaint_page(self, case_id, access_token=None, message=None, **kw):
        try:
            case = self._complaint_check_access(case_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        case._portal_ensure_token()
        values = self._get_page_view_values(case, case.access_token, {
            "case": case, "page_name": "complaint", "message": message,
        }, "my_complaints_history", False, **kw)
        return request.render("complaint_handling.portal_complaint_page", values)

    def _complaint_redirect(self, case, message):
        return request.redirect(f"/my/complaints/{case.id}?access_token={case.access_token}&message={message}")

    @http.route("/my/complaints/<int:case_id>/decision", type="http", auth="public", methods=["POST"], website=True)
    def portal_complaint_decision(self, case_id, access_token=None, decision=None, comment=None, **kw):
        case = self._complaint_check_access(case_id, access_token)
        if decision not in ("agreed", "declined"):
            return self._complaint_redirect(case, "decision_missing")
        try:
            case.with_context(lang=case.partner_id.lang)._record_customer_decision(decision, (comment or "").strip())
        except UserError:
            return self._complaint_redirect(case, "decision_refused")
        return self._complaint_redirect(case, decision)

    @http.route("/my/complaints/<int:case_id>/rate", type="http", auth="public", methods=["POST"], website=True)
    def portal_complaint_rate(self, case_id, access_token=None, rating=None, comment=None, **kw):
        case = self._complaint_check_access(case_id, access_token)
        try:
            case._record_satisfaction(rating, (comment or "").strip())
        except UserError:
            return self._complaint_redirect(case, "rating_refused")
        return self._complaint_redirect(case, "rated")

    def _complaint_orders(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return request.env["sale.order"].sudo().search(
            [("partner_id", "child_of", partner.id), ("state", "=", "sale")], order="date_order desc", limit=100,
        )

    @http.route("/my/complaints/new", type="http", auth="user", website=True, methods=["GET", "POST"])
    def portal_complaint_new(self, **post):
        values = self._prepare_portal_layout_values()
        orders = self._complaint_orders()
        categories = request.env["complaint.category"].sudo().search(
            [("company_id", "in", [False, request.env.company.id])]
        )
        values.update({"orders": orders, "categories": categories, "page_name": "complaint", "error": {}, "post": post})
        if request.httprequest.method == "GET":
            return request.render("complaint_handling.portal_complaint_new", values)
        error = {}
        description = (post.get("description") or "").strip()
        if not description:
            error["description"] = _("Describe what happened.")
        order = orders.filtered(lambda o: str(o.id) == post.get("order_id")) if post.get("order_id") else orders.browse()
        if post.get("order_id") and not order:
            error["order_id"] = _("Choose one of your orders.")
        category = categories.filtered(lambda c: str(c.id) == post.get("category_id"))
        attachments = []
        for upload in request.httprequest.files.getlist("photos"):
            if not upload.filename:
                continue
            data = upload.read()
            if len(data) > MAX_PHOTO_BYTES:
                error["photos"] = _("Each photo must be smaller than 10 MB.")
                break
            attachments.append({"name": upload.filename, "mimetype": upload.mimetype,
                                "data": base64.b64encode(data).decode()})
        if error:
            values["error"] = error
            return request.render("complaint_handling.portal_complaint_new", values)
        user = request.env.user
        payload = {
            "channel": "web_form",
            "source_system": "portal",
            "external_ref": uuid.uuid4().hex,
            "customer": {"name": user.partner_id.name, "email": user.partner_id.email, "phone": user.partner_id.phone},
            "order_ref": order.name if order else None,
            "subject": (post.get("subject") or "").strip() or None,
            "description": description,
            "category": category.code if category else None,
            "attachments": attachments,
        }
        # The case belongs to the company of the order it is about.
        Case = request.env["complaint.case"].sudo().with_company(order.company_id or request.env.company)
        Case = Case.with_context(lang=user.lang)
        result = Case._intake([payload])[0]
        if result["status"] == "error":
            values["error"] = {"form": result["error"]}
            return request.render("complaint_handling.portal_complaint_new", values)
        case = Case.browse(result["id"])
        if not case.partner_id:
            # Logged in, and the order is one of theirs: the customer is known.
            case._workflow_write({"partner_id": user.partner_id.id,
                                  "partner_match_note": _("Filed by the customer in the portal."),
                                  "sale_order_id": order.id, "claimed_order_ref": False})
        case._portal_ensure_token()
        return self._complaint_redirect(case, "created")
