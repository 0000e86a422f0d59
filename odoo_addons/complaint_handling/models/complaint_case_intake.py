import base64
import binascii
import hashlib
import logging
import math
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from markupsafe import Markup
from psycopg2 import DataError, IntegrityError

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import workflow_step
from .complaint_case import (
    CHANNELS,
    EXPECTATIONS,
    GROUP_INTAKE,
    GROUP_OFFICER,
    OPEN_STATES,
    URGENCIES,
)

_logger = logging.getLogger(__name__)

MAX_INTAKE_BATCH = 500
# Control characters PostgreSQL or the chatter would choke on (tab and line breaks are text).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_AMOUNT = 1e12
MAX_INTEGER = 2**31 - 1
EARLIEST_DATETIME = datetime(1970, 1, 1)
# Rows of the intake key table older than this are no longer needed: no
# transaction that could conflict on them is still running.
INTAKE_KEY_RETENTION = timedelta(days=1)


class IntakeItemError(ValueError):
    """An intake item is invalid; the message names the field and the reason."""


class PayloadReader:
    """Reads one field of an intake payload, or raises IntakeItemError
    naming the field and the reason."""

    def __init__(self, env):
        self.env = env

    def text(self, item, key, path=None, max_length=None):
        value = item.get(key)
        if value in (None, False, ""):
            return False
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise IntakeItemError(self.env._("field '%(field)s': expected text", field=path or key))
        value = str(value).strip()
        if CONTROL_CHARACTERS.search(value):
            raise IntakeItemError(
                self.env._("field '%(field)s': contains a control character", field=path or key)
            )
        if max_length and len(value) > max_length:
            raise IntakeItemError(
                self.env._("field '%(field)s': longer than %(max)s characters",
                           field=path or key, max=max_length)
            )
        return value or False

    def choice(self, item, key, choices, path=None):
        value = item.get(key)
        if value in (None, False, ""):
            return False
        allowed = [code for code, _label in choices]
        if value not in allowed:
            raise IntakeItemError(
                self.env._(
                    "field '%(field)s': unknown value %(value)r (expected one of: %(allowed)s)",
                    field=path or key, value=value, allowed=", ".join(allowed),
                )
            )
        return value

    def number(self, item, key, path=None, integer=False):
        value = item.get(key)
        if value in (None, False, ""):
            return False
        try:
            if isinstance(value, bool):
                raise TypeError
            number = float(value)
            if integer:
                if not math.isfinite(number) or number != int(number):
                    raise ValueError
                number = int(number)
        except (TypeError, ValueError, OverflowError):
            raise IntakeItemError(
                self.env._("field '%(field)s': expected a number, got %(value)r",
                           field=path or key, value=value)
            ) from None
        if not math.isfinite(number):
            raise IntakeItemError(self.env._("field '%(field)s': not a finite number", field=path or key))
        if number < 0:
            raise IntakeItemError(self.env._("field '%(field)s': cannot be negative", field=path or key))
        if number > (MAX_INTEGER if integer else MAX_AMOUNT):
            raise IntakeItemError(self.env._("field '%(field)s': too large", field=path or key))
        return number

    def datetime(self, item, key, path=None):
        """An ISO-8601 date-time; an offset is honoured, a naive value is UTC.
        Stored as naive UTC, between 1970 and tomorrow."""
        value = item.get(key)
        if value in (None, False, ""):
            return False
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            parsed = None
        if not parsed:
            raise IntakeItemError(
                self.env._("field '%(field)s': expected an ISO-8601 date-time, got %(value)r",
                           field=path or key, value=value)
            )
        if parsed.tzinfo:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        parsed = parsed.replace(microsecond=0)
        if not EARLIEST_DATETIME <= parsed <= fields.Datetime.now() + timedelta(days=1):
            raise IntakeItemError(
                self.env._("field '%(field)s': %(value)s is out of range (1970 until today)",
                           field=path or key, value=value)
            )
        return parsed


class IntakeLookups:
    """What the items of one intake call need from the database, read once
    for the whole call: contacts by phone and e-mail, orders, categories."""

    def __init__(self, case_model, items):
        self.env = case_model.env
        company = self.env.company
        read = PayloadReader(self.env)
        phones, emails, orders, categories = set(), set(), set(), set()
        for item in items:
            if not isinstance(item, dict):
                continue
            customer = item.get("customer") if isinstance(item.get("customer"), dict) else {}
            call = item.get("call") if isinstance(item.get("call"), dict) else {}
            # Read as _intake_case_values reads them; a bad value is that item's error, later.
            for source, key, bucket, convert in (
                (customer, "phone", phones, case_model._sanitize_phone_cached),
                (call, "caller_number", phones, case_model._sanitize_phone_cached),
                (customer, "email", emails, tools.email_normalize),
                (item, "order_ref", orders, None),
                (item, "category", categories, None),
            ):
                try:
                    value = read.text(source, key, max_length=256)
                except IntakeItemError:
                    value = False
                if value and convert:
                    value = convert(value)
                if value:
                    bucket.add(value)
        Partner = self.env["res.partner"].sudo().with_context(active_test=True)
        in_company = [("company_id", "in", [False, company.id])]
        self.partners = {"phone_sanitized": defaultdict(list), "email_normalized": defaultdict(list)}
        for fname, values in (("phone_sanitized", phones), ("email_normalized", emails)):
            if values:
                # search_read fills the cache: the names need no further query.
                for row in Partner.search_read([(fname, "in", list(values))] + in_company, [fname, "name"]):
                    self.partners[fname][row[fname]].append(row["id"])
        self.partner_prefetch = [
            pid for by_value in self.partners.values() for ids in by_value.values() for pid in ids
        ]
        self.orders = defaultdict(list)
        if orders:
            for order in self.env["sale.order"].sudo().search(
                [("name", "in", list(orders)), ("company_id", "=", company.id)]
            ):
                self.orders[order.name].append(order.id)
        self.categories = {}
        if categories:
            # A code designates one category per company (or a shared one).
            for category in self.env["complaint.category"].sudo().search(
                [("code", "in", list(categories)), ("company_id", "in", [False, company.id])],
                order="id",
            ):
                self.categories.setdefault(category.code, category.id)

    def partner_ids(self, fname, value):
        return self.partners[fname].get(value, [])


class ComplaintCase(models.Model):
    """The intake API: what the webhook bridge and the portal call."""

    _inherit = "complaint.case"

    claimed_order_ref = fields.Char(
        string="Order Named by the Customer", readonly=True, copy=False,
        help="Order reference given at intake and not linked: no such order in the company, or "
        "the e-mail or phone given is not its customer's. Check the customer before linking the order.",
    )
    thread_ref = fields.Char(
        string="Conversation", readonly=True, copy=False, index=True,
        help="The conversation of the source system this case came from (a WeChat follower, a "
        "helpdesk ticket): while the case is open, later messages of that conversation are "
        "added to its chatter.",
    )

    # ------------------------------------------------------------------
    # Partner matching
    # ------------------------------------------------------------------
    @api.model
    def _match_partner(self, phone=False, email=False, order=False, lookups=None):
        """Return (partner, note), among the contacts of the current company
        and the shared ones. Never guesses: the first of the phone (E.164) and
        the email that designates exactly one contact wins; otherwise the
        partner is empty and the note says why.

        With an order, its customer, only when the phone or the email given
        is one of that customer's; otherwise nobody (a stranger naming
        someone else's order is not that customer)."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=True)
        if order:
            key = self._order_customer_key(order, phone=phone, email=email)
            if key:
                return order.partner_id, _(
                    "Matched by order %(order)s; the %(key)s given is the customer's.",
                    order=order.name, key=key,
                )
            if not (phone or email):
                return Partner, _(
                    "Order %s given without an e-mail or phone to check the customer against; "
                    "check the customer before linking.", order.name,
                )
            return Partner, _(
                "Order %s names another customer: the e-mail/phone given does not match it; "
                "check the customer before linking.", order.name,
            )
        company_domain = [("company_id", "in", [False, self.env.company.id])]
        notes = []
        keys = []
        if phone:
            sanitized = self._sanitize_phone_cached(phone)
            if sanitized:
                keys.append(("phone_sanitized", sanitized, _("phone")))
            else:
                notes.append(_("phone %s is not a valid number", phone))
        if email:
            normalized = tools.email_normalize(email)
            if normalized:
                keys.append(("email_normalized", normalized, _("email")))
            else:
                notes.append(_("email %s is not a valid address", email))
        for fname, value, label in keys:
            if lookups:
                partners = Partner.browse(lookups.partner_ids(fname, value)[:2]).with_prefetch(
                    lookups.partner_prefetch
                )
            else:
                partners = Partner.search([(fname, "=", value)] + company_domain, limit=2)
            if len(partners) == 1:
                return partners, _("Matched by %(key)s %(value)s.", key=label, value=value)
            if partners:
                notes.append(_("several contacts share the %(key)s %(value)s", key=label, value=value))
            else:
                notes.append(_("no contact has the %(key)s %(value)s", key=label, value=value))
        if not keys and not notes:
            notes.append(_("no phone, email or order given"))
        return Partner, _("No customer matched: %s. Choose the contact by hand.", "; ".join(notes))

    @api.model
    def _order_customer_key(self, order, phone=False, email=False):
        """The label of the key ("email" or "phone") by which the customer
        given is the order's customer (its commercial entity or one of its
        contacts), or False when neither the e-mail nor the phone is theirs."""
        commercial = order.partner_id.commercial_partner_id
        contacts = self.env["res.partner"].sudo().search([("id", "child_of", commercial.id)])
        normalized = tools.email_normalize(email) if email else False
        if normalized and normalized in contacts.mapped("email_normalized"):
            return _("email")
        sanitized = self._sanitize_phone(phone)
        if sanitized:
            # phone_sanitized holds the mobile when a contact has both numbers.
            numbers = set(contacts.mapped("phone_sanitized"))
            for contact in contacts.filtered(lambda c: c.phone or c.mobile):
                numbers.update((contact._phone_format(fname="phone"), contact._phone_format(fname="mobile")))
            if sanitized in numbers:
                return _("phone")
        return False

    # ------------------------------------------------------------------
    # Intake
    # ------------------------------------------------------------------
    @api.model
    def intake(self, payloads):
        """Create or update complaint cases from external systems, in one call.

        :param list payloads: dicts as documented in the README ("Intake API")
        :return: one dict per payload, in order:
            ``{id, number, status: created|updated|duplicate|error, error}``

        Idempotent on (source_system, external_ref). An invalid item gets its
        own error; the other items of the call are still saved.
        """
        user = self.env.user
        if not (user.has_group(GROUP_INTAKE) or user.has_group(GROUP_OFFICER)):
            raise AccessError(_("Only the complaint intake user or complaint officers may call intake."))
        return self._intake(payloads)

    @api.model
    def _intake(self, payloads):
        """intake() without its access check, for trusted server code (the portal)."""
        if not isinstance(payloads, list):
            raise ValidationError(_("intake expects a list of payloads"))
        if len(payloads) > MAX_INTAKE_BATCH:
            raise ValidationError(
                _("intake takes at most %(max)s payloads per call, got %(count)s",
                  max=MAX_INTAKE_BATCH, count=len(payloads))
            )
        # Everything is matched, looked up and created within the caller's
        # current company, which becomes the cases' company.
        Case = self.sudo().with_company(self.env.company).with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        )
        with workflow_step(self._name, "complaint.call"):
            return Case._intake_items(payloads)

    @api.model
    def _intake_items(self, payloads):
        """Read every item, lock the keys it touches, look up what exists in
        a few queries for the whole call, then create the new cases (and
        their calls, attachments) together. An item whose keys an earlier
        item of the call touches, or which updates a recorded call, is
        handled on its own afterwards. Every bad item is its own error."""
        results = [None] * len(payloads)
        lookups = IntakeLookups(self, payloads)
        parsed = []
        for index, item in enumerate(payloads):
            try:
                if not isinstance(item, dict):
                    raise IntakeItemError(_("expected an object, got %s", type(item).__name__))
                vals = self._intake_case_values(item, lookups)
                call_vals = self._intake_call_values(item, vals)
            except (IntakeItemError, UserError, ValidationError) as error:
                results[index] = self._intake_error(index, error)
                continue
            parsed.append((index, item, vals, call_vals))
        self._intake_lock(parsed)

        company = self.env.company
        Call = self.env["complaint.call"]
        refs = {(v["source_system"], v["external_ref"]) for _i, _it, v, _c in parsed}
        call_keys = {(c["source_system"], c["call_id"]) for _i, _it, _v, c in parsed if c}
        existing_cases = {
            (case.source_system, case.external_ref): case
            for case in self.with_context(active_test=False).search([
                ("source_system", "in", list({r[0] for r in refs})),
                ("external_ref", "in", list({r[1] for r in refs})),
            ])
        } if refs else {}
        existing_calls = {
            (call.source_system, call.call_id): call
            for call in Call.search([
                ("source_system", "in", list({k[0] for k in call_keys})),
                ("call_id", "in", list({k[1] for k in call_keys})),
            ])
        } if call_keys else {}
        open_cases = self._open_cases_of_callers([v for _i, _it, v, c in parsed if c])

        seen = set()
        later, new, attached, to_planned = [], [], [], []
        planned = {}  # caller key -> position in `new` of the latest new case of that caller
        joined = {}  # caller key -> the open case an earlier call of this call joined
        for index, item, vals, call_vals in parsed:
            keys = self._intake_keys(vals, call_vals)
            ref_key = (vals["source_system"], vals["external_ref"])
            known_call = call_vals and (call_vals["source_system"], call_vals["call_id"]) in existing_calls
            caller = self._open_case_key(vals)
            overlap = seen & keys
            # Sharing only the customer with an earlier item: a web form is a
            # new case all the same; a call joins the caller's case of this
            # call (new or open). Anything else is handled on its own, later.
            if vals.get("thread_ref"):
                # A conversation's message: a new case or the open case's chatter, on its own.
                later.append((index, item))
                seen |= keys
                continue
            customer_only = overlap and not known_call and ref_key not in existing_cases and all(
                key[0] in ("partner", "phone") for key in overlap
            )
            if customer_only and call_vals and caller in planned:
                to_planned.append((index, planned[caller], call_vals))
            elif customer_only and call_vals and caller in joined:
                attached.append((index, joined[caller], call_vals))
            elif overlap and not (customer_only and not call_vals):
                later.append((index, item))
            elif known_call:
                later.append((index, item))
            elif ref_key in existing_cases:
                case = existing_cases[ref_key]
                if call_vals:
                    later.append((index, item))
                elif case.company_id and case.company_id != company:
                    results[index] = self._intake_error(index, IntakeItemError(
                        _("field 'external_ref': %(ref)s from %(system)s is already a case of another company",
                          ref=vals["external_ref"], system=vals["source_system"])
                    ))
                else:
                    results[index] = self._intake_result(case, "duplicate")
            elif call_vals and caller in open_cases:
                attached.append((index, open_cases[caller], call_vals))
                joined[caller] = open_cases[caller]
            else:
                for key in keys:
                    if key[0] in ("partner", "phone"):
                        planned[key] = len(new)
                        joined.pop(key, None)
                new.append((index, item, vals, call_vals))
            seen |= keys

        created = self._intake_create(new, results)
        if created is None:
            # The cases could not be created together: their callers' calls on their own.
            later += [(index, payloads[index]) for index, _position, _call_vals in to_planned]
            created = []
        else:
            attached += [(index, created[position][1], call_vals) for index, position, call_vals in to_planned]
        calls = [(index, case, call_vals) for index, case, call_vals in created + attached if call_vals]
        pending = list(attached)
        while pending:  # one log per call; a case gets several when several calls join it
            batch = {}
            rest = []
            for index, case, call_vals in pending:
                if case.id in batch:
                    rest.append((index, case, call_vals))
                else:
                    batch[case.id] = _("Call %s from the customer attached to this open case.", call_vals["call_id"])
            self.browse(list(batch))._message_log_batch(bodies=batch)
            pending = rest
        for index, case, _call_vals in attached:
            results[index] = self._intake_result(case, "updated")
        self._intake_create_calls(calls, results)
        for index, item in sorted(later):
            results[index] = self._intake_item_alone(index, item)
        return results

    def _intake_result(self, case, status):
        return {"id": case.id, "number": case.name, "status": status, "error": False}

    def _intake_error(self, index, error):
        if isinstance(error, DataError):
            # A value the database refuses: this item's error, not the call's.
            reason = (error.pgerror or str(error)).strip().splitlines()[0]
            message = _("item %(index)s: a value was refused: %(error)s", index=index, error=reason)
        else:
            message = _("item %(index)s: %(error)s", index=index, error=error.args[0] if error.args else error)
        return {"id": False, "number": False, "status": "error", "error": message}

    def _intake_item_alone(self, index, item):
        """One item in its own savepoint: one bad item never loses the others."""
        try:
            with self.env.cr.savepoint():
                case, status = self._intake_one(item)
            return self._intake_result(case, status)
        except (IntakeItemError, UserError, ValidationError, DataError) as error:
            return self._intake_error(index, error)
        except IntegrityError as error:
            # Stored meanwhile (the keys are locked, so hardly ever): a duplicate.
            case = self._find_existing(item)
            if not case:
                return self._intake_error(index, ValidationError(
                    (error.pgerror or str(error)).strip().splitlines()[0]
                ))
            return self._intake_result(case, "duplicate")

    def _intake_create(self, new, results):
        """Create the new cases of the call with one create; when that fails
        (a value the database refuses), each on its own to find the culprit."""
        if not new:
            return []
        vals_list = []
        for _index, _item, vals, _call_vals in new:
            vals = dict(vals)
            vals.pop("attachments")
            vals_list.append(vals)
        try:
            with self.env.cr.savepoint():
                cases = self.create(vals_list)
                attachments = [
                    dict(attachment, res_model=self._name, res_id=case.id)
                    for case, (_i, _it, vals, _c) in zip(cases, new)
                    for attachment in vals["attachments"] if attachment
                ]
                if attachments:
                    self.env["ir.attachment"].create(attachments)
        except (UserError, ValidationError, DataError, IntegrityError):
            for index, item, _vals, _call_vals in new:
                results[index] = self._intake_item_alone(index, item)
            return None
        created = []
        for case, (index, _item, _vals, call_vals) in zip(cases, new):
            results[index] = self._intake_result(case, "created")
            created.append((index, case, call_vals))
        return created

    def _intake_create_calls(self, calls, results):
        if not calls:
            return
        vals_list = [dict(call_vals, case_id=case.id, partner_id=case.partner_id.id) for _i, case, call_vals in calls]
        try:
            with self.env.cr.savepoint():
                self.env["complaint.call"].create(vals_list)
        except (UserError, ValidationError, DataError, IntegrityError):
            for (index, _case, _call_vals), vals in zip(calls, vals_list):
                try:
                    with self.env.cr.savepoint():
                        self.env["complaint.call"].create(vals)
                except (UserError, ValidationError, DataError, IntegrityError) as error:
                    results[index] = self._intake_error(index, error)

    # ------------------------------------------------------------------
    # Concurrency: one caller, one open case; one case per reference
    # ------------------------------------------------------------------
    def _sanitize_phone_cached(self, number):
        """_sanitize_phone, once per number and transaction (intake asks often)."""
        if not number:
            return False
        cache = self.env.cr.cache.setdefault("complaint_intake_e164", {})
        key = (number, self.env.company.id)
        if key not in cache:
            cache[key] = self._sanitize_phone(number)
        return cache[key]

    def _open_case_key(self, vals):
        if vals.get("partner_id"):
            return ("partner", vals["partner_id"])
        phone = self._sanitize_phone_cached(vals.get("customer_phone"))
        return ("phone", phone) if phone else None

    def _intake_keys(self, vals, call_vals):
        """What an item reads or creates that another item (of this call or a
        concurrent one) may read or create too: its reference, its call, its
        customer (contact and phone), and the customer's order."""
        keys = {("ref", vals["source_system"], vals["external_ref"])}
        if vals.get("thread_ref"):
            keys.add(("thread", vals["source_system"], vals["thread_ref"]))
        if call_vals:
            keys.add(("call", call_vals["source_system"], call_vals["call_id"]))
        if vals.get("partner_id"):
            keys.add(("partner", vals["partner_id"]))
            if vals.get("sale_order_id"):
                keys.add(("order", vals["partner_id"], vals["sale_order_id"]))
        phone = self._sanitize_phone_cached(vals.get("customer_phone"))
        if phone:
            keys.add(("phone", phone))
        return keys

    def _intake_lock(self, parsed):
        """Serialise the items of concurrent calls that share a key.

        Each key is a row of complaint_intake_key, upserted in a sorted order
        (no deadlock between two calls). A concurrent transaction holding one
        of these rows makes this one wait; once it commits, PostgreSQL raises
        a serialization failure here (REPEATABLE READ: its rows would be
        invisible to this transaction), and Odoo replays the whole call,
        which then sees the other call's case: `duplicate`, or the call
        attached to the caller's open case. An advisory lock alone would not
        do: the waiting transaction's snapshot predates the other's commit."""
        keys = set()
        for _index, _item, vals, call_vals in parsed:
            keys |= self._intake_keys(vals, call_vals)
        if not keys:
            return
        hashed = sorted({
            int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "big", signed=True)
            for key in keys
        })
        self.env.cr.execute(
            "INSERT INTO complaint_intake_key (key, touched) "
            "SELECT k, now() AT TIME ZONE 'UTC' FROM unnest(%s::bigint[]) AS k ORDER BY k "
            "ON CONFLICT (key) DO UPDATE SET touched = EXCLUDED.touched",
            [hashed],
        )

    def init(self):
        super().init()
        self.env.cr.execute(
            "CREATE TABLE IF NOT EXISTS complaint_intake_key "
            "(key bigint PRIMARY KEY, touched timestamp NOT NULL)"
        )

    @api.autovacuum
    def _gc_intake_keys(self):
        self.env.cr.execute(
            "DELETE FROM complaint_intake_key WHERE touched < %s",
            [fields.Datetime.now() - INTAKE_KEY_RETENTION],
        )

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A complaint e-mailed to the complaints alias is registered at once,
        with the sender matched to a contact like any other intake."""
        name, email = tools.parse_contact_from_email(msg_dict.get("email_from") or "")
        company = self.env["res.company"].browse((custom_values or {}).get("company_id")) or self.env.company
        partner, note = self.with_company(company)._match_partner(email=email)
        values = {
            # The number comes from the sequence, not from the e-mail's subject.
            "name": _("New"),
            "channel": "email",
            "subject": msg_dict.get("subject") or _("Complaint by e-mail from %s", name or email),
            "description": msg_dict.get("body"),
            "customer_name": name or partner.name or email,
            "customer_email": email,
            "partner_id": partner.id,
            "partner_match_note": note,
        }
        values.update(custom_values or {})
        # The gateway registers the case as the server's own intake step.
        with workflow_step(self._name):
            return super(ComplaintCase, self.with_context(mail_create_nolog=True)).message_new(
                msg_dict, custom_values=values
            )

    def _find_existing(self, item):
        source, ref = item.get("source_system"), item.get("external_ref")
        call = item.get("call") or {}
        in_company = [("company_id", "=", self.env.company.id)]
        existing_call = self.env["complaint.call"].sudo().search(
            [("source_system", "=", source), ("call_id", "=", call.get("call_id") or ref)] + in_company, limit=1
        ) if call else self.env["complaint.call"]
        return existing_call.case_id or self.search(
            [("source_system", "=", source), ("external_ref", "=", ref)] + in_company, limit=1
        )

    def _intake_one(self, item):
        if not isinstance(item, dict):
            raise IntakeItemError(_("expected an object, got %s", type(item).__name__))
        vals = self._intake_case_values(item)
        call_vals = self._intake_call_values(item, vals)
        if vals.get("thread_ref"):
            if call_vals:
                raise IntakeItemError(_("field 'thread_ref': a call cannot belong to a conversation"))
            return self._intake_thread_message(vals)

        if call_vals:
            Call = self.env["complaint.call"]
            existing_call = Call.search(
                [("source_system", "=", call_vals["source_system"]), ("call_id", "=", call_vals["call_id"])],
                limit=1,
            )
            if existing_call.company_id and existing_call.company_id != self.env.company:
                raise IntakeItemError(_(
                    "field 'call.call_id': call %(call)s from %(system)s is already recorded for another company",
                    call=call_vals["call_id"], system=call_vals["source_system"],
                ))
            if existing_call:
                changed = existing_call._merge_event(call_vals)
                return existing_call.case_id, "updated" if changed else "duplicate"

        case = self.search(
            [("source_system", "=", vals["source_system"]), ("external_ref", "=", vals["external_ref"])],
            limit=1,
        )
        if case.company_id and case.company_id != self.env.company:
            # Unique across companies: never answer with, nor update, another company's case.
            raise IntakeItemError(
                _("field 'external_ref': %(ref)s from %(system)s is already a case of another company",
                  ref=vals["external_ref"], system=vals["source_system"])
            )
        if case and not call_vals:
            return case, "duplicate"

        status = "updated"
        if not case and call_vals:
            case = self._open_case_of_caller(vals)
            if case:
                case._message_log(
                    body=_("Call %s from the customer attached to this open case.", call_vals["call_id"])
                )
        if not case:
            attachments = vals.pop("attachments")
            case = self.create(vals)
            case._intake_attach(attachments)
            status = "created"
        if call_vals:
            call_vals.update(case_id=case.id, partner_id=case.partner_id.id)
            self.env["complaint.call"].create(call_vals)
        return case, status

    def _intake_case_values(self, item, lookups=None):
        read = PayloadReader(self.env)
        source = read.text(item, "source_system", max_length=64)
        ref = read.text(item, "external_ref", max_length=256)
        if not source:
            raise IntakeItemError(_("field 'source_system': required"))
        if not ref:
            raise IntakeItemError(_("field 'external_ref': required"))
        channel = read.choice(item, "channel", CHANNELS)
        if not channel:
            raise IntakeItemError(_("field 'channel': required"))
        customer = item.get("customer") or {}
        if not isinstance(customer, dict):
            raise IntakeItemError(_("field 'customer': expected an object"))
        name = read.text(customer, "name", "customer.name", 256)
        phone = read.text(customer, "phone", "customer.phone", 64)
        email = read.text(customer, "email", "customer.email", 256)
        address = read.text(customer, "address", "customer.address", 1024)
        call = item.get("call") or {}
        if isinstance(call, dict) and not phone and call.get("direction", "inbound") == "inbound":
            phone = read.text(call, "caller_number", "call.caller_number", 64)

        company = self.env.company
        order = self.env["sale.order"]
        order_ref = read.text(item, "order_ref", max_length=64)
        if order_ref:
            if lookups:
                order = order.sudo().browse(lookups.orders.get(order_ref, [])[:2])
            else:
                order = order.sudo().search([("name", "=", order_ref), ("company_id", "=", company.id)], limit=2)
            if len(order) != 1:
                order = order.browse()
        partner, match_note = self._match_partner(phone=phone, email=email, order=order, lookups=lookups)
        if order_ref and not order:
            match_note = _("Order %(ref)s not found. %(note)s", ref=order_ref, note=match_note)
        if order and not partner:
            # The customer given is not the order's: the order stays a claim to check.
            order = order.browse()

        category = self.env["complaint.category"]
        category_code = read.text(item, "category", max_length=64)
        if category_code and lookups:
            category = category.sudo().browse(lookups.categories.get(category_code))
            if not category:
                raise IntakeItemError(_("field 'category': unknown category code %r", category_code))
        elif category_code:
            category = category.sudo().search(
                [("code", "=", category_code), ("company_id", "in", [False, company.id])], limit=1
            )
            if not category:
                raise IntakeItemError(_("field 'category': unknown category code %r", category_code))

        description = read.text(item, "description", max_length=100_000)
        subject = read.text(item, "subject", max_length=256) or (
            description.splitlines()[0][:80] if description else False
        ) or _("%(channel)s complaint from %(who)s", channel=dict(CHANNELS)[channel],
               who=name or phone or email or _("unknown customer"))
        attachments = item.get("attachments") or []
        if not isinstance(attachments, list):
            raise IntakeItemError(_("field 'attachments': expected a list"))
        return {
            "source_system": source,
            "external_ref": ref,
            "thread_ref": read.text(item, "thread_ref", max_length=256),
            "company_id": company.id,
            "channel": channel,
            "subject": subject,
            "description": tools.plaintext2html(description) if description else False,
            "partner_id": partner.id,
            "partner_match_note": match_note,
            "customer_name": name or partner.name,
            "customer_phone": phone,
            "customer_email": email,
            "customer_address": address,
            "sale_order_id": order.id,
            "claimed_order_ref": order_ref if not order else False,
            "category_id": category.id,
            "urgency": read.choice(item, "urgency", URGENCIES) or "general",
            "expectation": read.choice(item, "expectation", EXPECTATIONS),
            "amount_claimed": read.number(item, "amount_claimed") or 0.0,
            "received_date": read.datetime(item, "received_at", "received_at") or fields.Datetime.now(),
            "attachments": [self._intake_attachment(a, i) for i, a in enumerate(attachments)],
        }

    # ------------------------------------------------------------------
    # Conversations: messages of one thread while its case is open
    # ------------------------------------------------------------------
    def _intake_thread_message_id(self, vals):
        """The Message-Id of the chatter message an item of a conversation
        became: the item's (source_system, external_ref), so that it is
        posted once."""
        digest = hashlib.sha256(
            f"{vals['source_system']}\x00{vals['external_ref']}".encode()
        ).hexdigest()[:40]
        return f"<intake.{digest}@complaint.case>"

    def _intake_thread_message(self, vals):
        """An item of a conversation (``thread_ref``): the message that
        opens it creates a case; while that case is open, the later messages
        of the conversation are added to its chatter (``updated``), each
        once. Once the case is closed, the next message opens a new case.
        The caller holds the item's keys, the conversation's included."""
        company = self.env.company
        case = self.search(
            [("source_system", "=", vals["source_system"]), ("external_ref", "=", vals["external_ref"])],
            limit=1,
        )
        message_id = self._intake_thread_message_id(vals)
        if not case:
            message = self.env["mail.message"].sudo().search(
                [("model", "=", self._name), ("message_id", "=", message_id)], limit=1
            )
            case = self.browse(message.res_id) if message else case
        if case:
            if case.company_id and case.company_id != company:
                raise IntakeItemError(
                    _("field 'external_ref': %(ref)s from %(system)s is already a case of another company",
                      ref=vals["external_ref"], system=vals["source_system"])
                )
            return case, "duplicate"
        case = self.search([
            ("source_system", "=", vals["source_system"]), ("thread_ref", "=", vals["thread_ref"]),
            ("company_id", "=", company.id), ("state", "in", OPEN_STATES),
        ], order="received_date desc, id desc", limit=1)
        attachments = vals.pop("attachments")
        if not case:
            case = self.create(vals)
            case._intake_attach(attachments)
            return case, "created"
        files = self.env["ir.attachment"].create(
            [dict(a, res_model=self._name, res_id=case.id) for a in attachments if a]
        )
        text = vals.get("description") or tools.plaintext2html(vals["subject"])
        message = case._message_log(
            body=Markup("%s<br/>") % _("Message %(ref)s of the conversation, from %(system)s:",
                                        ref=vals["external_ref"], system=vals["source_system"]) + Markup(text),
            author_id=case.partner_id.id or None,
            email_from=vals.get("customer_email") or vals.get("customer_name") or vals["source_system"],
            message_type="comment",
            attachment_ids=files.ids,
        )
        message.write({"message_id": message_id})
        return case, "updated"

    def _intake_attachment(self, attachment, index):
        read = PayloadReader(self.env)
        path = f"attachments[{index}]"
        if not isinstance(attachment, dict):
            raise IntakeItemError(_("field '%s': expected an object", path))
        name = read.text(attachment, "name", f"{path}.name", 256)
        data = attachment.get("data")
        if not name:
            raise IntakeItemError(_("field '%s.name': required", path))
        if not isinstance(data, str) or not data:
            raise IntakeItemError(_("field '%s.data': required base64 text", path))
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise IntakeItemError(_("field '%s.data': not valid base64", path)) from None
        return {"name": name, "datas": data, "mimetype": read.text(attachment, "mimetype", f"{path}.mimetype", 128)}

    def _intake_attach(self, attachments):
        self.ensure_one()
        if attachments:
            self.env["ir.attachment"].create(
                [dict(a, res_model=self._name, res_id=self.id) for a in attachments if a]
            )

    def _intake_call_values(self, item, case_vals):
        call = item.get("call")
        if call in (None, False, {}):
            return {}
        if not isinstance(call, dict):
            raise IntakeItemError(_("field 'call': expected an object"))
        Call = self.env["complaint.call"]
        read = PayloadReader(self.env)
        return {
            "source_system": case_vals["source_system"],
            "call_id": read.text(call, "call_id", "call.call_id", 256) or case_vals["external_ref"],
            "direction": read.choice(call, "direction", Call._fields["direction"].selection, "call.direction")
            or "inbound",
            "status": read.choice(call, "status", Call._fields["status"].selection, "call.status") or "completed",
            "start": read.datetime(call, "start", "call.start"),
            "answer": read.datetime(call, "answer", "call.answer"),
            "end": read.datetime(call, "end", "call.end"),
            "duration": read.number(call, "duration", "call.duration", integer=True) or 0,
            "billsec": read.number(call, "billsec", "call.billsec", integer=True) or 0,
            "caller_number": read.text(call, "caller_number", "call.caller_number", 64),
            "callee_number": read.text(call, "callee_number", "call.callee_number", 64),
            "agent": read.text(call, "agent", "call.agent", 256),
            "recording_url": read.text(call, "recording_url", "call.recording_url", 2048),
        }

    def _open_cases_of_callers(self, vals_list):
        """{("partner", id) or ("phone", e164): most recent open case}, for
        the callers of vals_list, in one query."""
        partner_ids = {v["partner_id"] for v in vals_list if v.get("partner_id")}
        phones = {key[1] for key in map(self._open_case_key, vals_list) if key and key[0] == "phone"}
        if not (partner_ids or phones):
            return {}
        domain = [("company_id", "=", self.env.company.id), ("state", "in", OPEN_STATES)]
        if partner_ids and phones:
            domain += ["|", ("partner_id", "in", list(partner_ids)), ("customer_phone_sanitized", "in", list(phones))]
        elif partner_ids:
            domain += [("partner_id", "in", list(partner_ids))]
        else:
            domain += [("customer_phone_sanitized", "in", list(phones))]
        found = {}
        for case in self.search(domain, order="received_date desc, id desc"):
            if case.partner_id.id in partner_ids:
                found.setdefault(("partner", case.partner_id.id), case)
            if case.customer_phone_sanitized in phones:
                found.setdefault(("phone", case.customer_phone_sanitized), case)
        return found

    def _open_case_of_caller(self, vals):
        """The caller's most recent open case in the company, by contact or by phone number."""
        if vals.get("partner_id"):
            domain = [("partner_id", "=", vals["partner_id"])]
        else:
            phone = self._sanitize_phone(vals.get("customer_phone"))
            if not phone:
                return self.browse()
            domain = [("customer_phone_sanitized", "=", phone)]
        domain += [("company_id", "=", self.env.company.id), ("state", "in", OPEN_STATES)]
        return self.search(domain, order="received_date desc", limit=1)
