"""The workflow rules attacked as an outside client would: JSON-RPC over
HTTP (and XML-RPC) with each role's real credentials.

Generated from the models at run time, so that a new model, field or
action is attacked without editing this file:

- every model of the addon (``complaint.*``, not wizards nor SQL views),
- every field the model declares read-only (status, approvals, who decided
  what and when, stamps, counters, numbers, related fields),
- every ``action_*`` method,
- as every role, with no context and with every context key the addon
  reads or ever trusted as a guard.

Each forged attempt must be refused and leave the record unchanged; where
the role may write the record, the refusal must come from the workflow
guard (its message names the field), not from an access right.
"""

import json
import pathlib
import re
import xmlrpc.client

from odoo.models import LOG_ACCESS_COLUMNS
from odoo.tests import HttpCase, new_test_user, tagged

from ..tools import workflow_step
from .common import ComplaintCommon

ADDON_DIR = pathlib.Path(__file__).resolve().parent.parent
# Context keys earlier versions of the addon trusted as guards.
HISTORIC_GUARD_KEYS = (
    "complaint_state_transition",
    "complaint_contact_sheet_step",
    "complaint_notice_transition",
    "complaint_approval_no_reset",
    "complaint_audit_export_run",
)
# Keys of Odoo's own that a client might hope would relax a check.
ODOO_KEYS = ("install_mode", "import_file", "tracking_disable", "mail_notrack", "module", "su", "sudo")
CONTEXT_KEY_PATTERN = re.compile(
    r"""context(?:\.get\(|\[)\s*["']([a-z_]+)["']|with_context\(\s*([a-z_]+)\s*="""
)
NOT_BOOLEAN_KEYS = {"lang", "tz", "active_id", "active_ids", "active_model", "allowed_company_ids"}
SKIPPED_TYPES = ("binary", "reference", "properties", "properties_definition", "json")


def addon_context_keys():
    """Every context key the addon's code reads or sets, and the old guard keys."""
    keys = set(HISTORIC_GUARD_KEYS) | set(ODOO_KEYS)
    for path in ADDON_DIR.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for match in CONTEXT_KEY_PATTERN.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return sorted(keys - NOT_BOOLEAN_KEYS)


@tagged("post_install", "-at_install", "complaint_api_guard")
class TestApiGuard(HttpCase, ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        G = "complaint_handling.group_complaint_"
        cls.marketing_director = new_test_user(
            cls.env, login="marketing_director", groups=f"base.group_user,{G}marketing_director",
        )
        cls.administrator = new_test_user(cls.env, login="complaint_admin", groups=f"base.group_user,{G}manager")
        cls.portal_user = new_test_user(cls.env, login="portal_guard", groups="base.group_portal")
        cls.intake_bot.sudo().password = "intake-bot-password"
        cls.roles = {
            "user": (cls.agent, "agentxxx"),
            "quality": (cls.quality, "qualityx"),
            "department_head": (cls.head_production, "head_production"),
            "officer": (cls.officer, "officerx"),
            "gm_office": (cls.gm, "gmxxxxxx"),
            "finance": (cls.finance, "financex"),
            "marketing_director": (cls.marketing_director, "marketing_director"),
            "administrator": (cls.administrator, "complaint_admin"),
            "internal_user": (cls.plain_user, "plain_user"),
            "portal": (cls.portal_user, "portal_guard"),
            "intake": (cls.intake_bot, "intake-bot-password"),
        }
        cls.forged_context = {key: True for key in addon_context_keys()}
        cls._build_scenario()
        cls.models = cls._addon_models()
        cls.fixtures = {name: cls._fixture(name) for name in cls.models}

    # ------------------------------------------------------------------
    # The records attacked: one of each document in the middle of its life
    # ------------------------------------------------------------------
    @classmethod
    def _build_scenario(cls):
        env = cls.env
        # A subscriber of every case event: the scenario's steps queue its deliveries.
        env["complaint.event.subscription"].create({
            "name": "Guard receiver", "url": "https://receiver.example.com/hooks", "on_case_created": True,
            "on_case_acknowledged": True, "on_case_solution_proposed": True,
        })
        case = cls.create_case(user=cls.agent, subject="Guarded case", quality_related=True)
        case.write({"responsible_department_id": cls.dept_production.id, "user_id": cls.agent.id})
        case.with_user(cls.agent).action_acknowledge()
        case.with_user(cls.agent).action_start_investigation()
        case.write({"verdict": "company", "solution_description": "<p>Refund part of the price.</p>"})
        env["complaint.solution.line"].create({
            "case_id": case.id, "solution_type": "refund", "amount": 300, "name": "Partial refund",
        })
        case.with_user(cls.agent).action_propose_solution()
        cls.case = case
        env["complaint.major.incident"].with_user(cls.agent).create({
            "case_id": case.id, "facts": "<p>Burn</p>", "remedy": "replace", "amount": 100,
        }).action_submit()
        sheet = env["complaint.contact.sheet"].with_user(cls.officer).create({
            "case_id": case.id, "defect_description": "Lid cracks", "routing": "quality",
        })
        sheet.with_user(cls.officer).action_submit()
        sheet.with_user(cls.quality).write({
            "inspection_result": "Cracked", "responsibility": "ours",
            "countermeasure_department_id": cls.dept_production.id,
        })
        sheet.with_user(cls.quality).action_analyse()
        env["complaint.contact.sheet.action"].with_user(cls.head_production).create({
            "sheet_id": sheet.id, "name": "Fix the mould", "user_id": cls.head_production.id,
            "date_deadline": "2030-01-01",
        })
        notice = env["complaint.penalty.notice"].with_user(cls.gm).create({
            "note": "Review", "line_ids": [(0, 0, {
                "employee_id": cls.agent.employee_id.id, "kind": "penalty", "amount": 300,
                "reason": "Late answer", "case_ids": [(6, 0, case.ids)],
            })],
        })
        notice.with_user(cls.gm).action_submit()
        meeting = env["complaint.review.meeting"].with_user(cls.officer).create({"name": "Review (guard)"})
        env["complaint.review.action"].with_user(cls.officer).create({
            "meeting_id": meeting.id, "name": "Train the agents", "user_id": cls.agent.id,
            "date_deadline": "2030-01-01",
        })
        env["complaint.audit.export"].with_user(cls.officer).create({})
        env["complaint.case"].with_user(cls.officer).intake([{
            "channel": "phone", "source_system": "guard", "external_ref": "CALL-GUARD",
            "customer": {"name": "Caller", "phone": "+8613800138999"},
            "call": {"call_id": "CALL-GUARD", "status": "completed", "duration": 30},
        }])

    @classmethod
    def _addon_models(cls):
        names = []
        for name in sorted(cls.env.registry):
            model = cls.env[name]
            if name.startswith("complaint.") and not model._abstract and not model._transient and model._auto:
                names.append(name)
        return names

    @classmethod
    def _fixture(cls, name):
        """The most recent record of the model: the scenario's own."""
        return cls.env[name].sudo().with_context(active_test=False).search([], order="id desc", limit=1)

    # ------------------------------------------------------------------
    # The outside client
    # ------------------------------------------------------------------
    def rpc(self, role, model, method, args, kwargs=None):
        """execute_kw over JSON-RPC as `role`: (result, error message or None)."""
        user, password = self.roles[role]
        payload = {
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {
                "service": "object", "method": "execute_kw",
                "args": [self.env.cr.dbname, user.id, password, model, method, args, kwargs or {}],
            },
        }
        response = self.url_open(
            "/jsonrpc", data=json.dumps(payload, default=str), headers={"Content-Type": "application/json"}, timeout=60,
        )
        body = response.json()
        self.env.invalidate_all()
        if "error" in body:
            data = body["error"].get("data") or {}
            return None, f"{data.get('name', '')}: {data.get('message', body['error'].get('message'))}"
        return body.get("result"), None

    def facts(self, model_name):
        """The fields the addon declares read-only on the model, stored or
        related (a related field writes through): its workflow facts."""
        model = self.env[model_name]
        return [
            name for name, field in model._fields.items()
            if field.readonly and (field.store or field.related) and field.type not in SKIPPED_TYPES
            and (field._module or "").startswith("complaint_handling")
            and name not in LOG_ACCESS_COLUMNS and name not in ("id", "display_name")
        ]

    def snapshot(self, record):
        self.env.invalidate_all()
        record = record.sudo().with_context(active_test=False)
        values = {}
        for name in self.facts(record._name):
            value = record[name]
            values[name] = tuple(value.ids) if hasattr(value, "ids") else value
        return values

    def forged_value(self, record, name):
        """A value the field does not have, of the right type; None to skip."""
        field = record._fields[name]
        current = record.sudo()[name]
        if field.type == "selection":
            values = [value for value, _label in field._description_selection(self.env)]
            return next((value for value in values if value != current), None)
        if field.type == "many2one":
            other = self.env[field.comodel_name].sudo().search([("id", "!=", current.id)], limit=1)
            return other.id or None
        if field.type in ("one2many", "many2many"):
            return [(5, 0, 0)] if current else None
        if field.type == "boolean":
            return not current
        if field.type == "integer":
            return (current or 0) + 7
        if field.type in ("float", "monetary"):
            return (current or 0.0) + 7.5
        if field.type == "many2one_reference":
            return (current or 0) + 1
        if field.type == "date":
            return "2001-02-03"
        if field.type == "datetime":
            return "2001-02-03 04:05:06"
        return "forged"

    def may_write(self, role, record):
        user = self.roles[role][0]
        return record.with_user(user).has_access("write")

    # ------------------------------------------------------------------
    # Writes
    # ------------------------------------------------------------------
    def test_forged_writes_are_refused(self):
        leaks, attempts, guard_refusals, attacked = [], 0, set(), set()
        for model_name in self.models:
            record = self.fixtures[model_name]
            self.assertTrue(record, f"no {model_name} to attack: add one to the scenario")
            for name in self.facts(model_name):
                value = self.forged_value(record, name)
                if value is None:
                    continue
                attacked.add(model_name)
                for role in self.roles:
                    for context in ({}, self.forged_context):
                        before = self.snapshot(record)
                        _result, error = self.rpc(
                            role, model_name, "write", [record.ids, {name: value}], {"context": context},
                        )
                        attempts += 1
                        after = self.snapshot(record)
                        if error is None or before != after:
                            leaks.append(f"{role} wrote {model_name}.{name} (context {bool(context)}): {error}")
                        elif self.may_write(role, record):
                            if f"'{name}'" not in error:
                                leaks.append(f"{role}: {model_name}.{name} refused for another reason: {error}")
                            guard_refusals.add(model_name)
        self.assertFalse(leaks, "\n".join(leaks))
        self.assertGreater(attempts, 500)
        unguarded = [m for m in attacked if m not in guard_refusals
                     and any(self.may_write(role, self.fixtures[m]) for role in self.roles)]
        self.assertFalse(unguarded, f"no guard refusal seen for {unguarded}")

    def test_forged_creates_are_refused(self):
        leaks, controls = [], set()
        for model_name in self.models:
            record = self.fixtures[model_name]
            facts = set(self.facts(model_name))
            base = {
                key: value for key, value in record.copy_data()[0].items()
                if key not in facts and key in record._fields
                and record._fields[key].type not in ("one2many",) + SKIPPED_TYPES
            }
            Model = self.env[model_name].sudo().with_context(active_test=False)
            for role in self.roles:
                count = Model.search_count([])
                created, error = self.rpc(role, model_name, "create", [base], {"context": {}})
                if error is None:
                    controls.add(model_name)
                    # default_<fact> context keys are ignored: compare with the plain record.
                    plain = Model.browse(created)
                    defaults = {}
                    for name in facts:
                        value = self.forged_value(record, name)
                        if value is not None and record._fields[name].type in ("selection", "boolean", "char"):
                            defaults[name] = value
                    created, error = self.rpc(role, model_name, "create", [base], {
                        "context": {f"default_{name}": value for name, value in defaults.items()},
                    })
                    if created:
                        new = Model.browse(created)
                        for name, value in defaults.items():
                            if plain[name] != value and new[name] == value:
                                leaks.append(f"{role}: {model_name} created with forged default {name}={value!r}")
                for name in sorted(facts):
                    value = self.forged_value(record, name)
                    if value is None:
                        continue
                    count = Model.search_count([])
                    _result, error = self.rpc(
                        role, model_name, "create", [dict(base, **{name: value})],
                        {"context": self.forged_context},
                    )
                    if error is None or Model.search_count([]) != count:
                        leaks.append(f"{role} created {model_name} with {name}={value!r}")
        self.assertFalse(leaks, "\n".join(leaks))
        for model_name in ("complaint.case", "complaint.contact.sheet", "complaint.penalty.notice",
                           "complaint.solution.line", "complaint.major.incident", "complaint.review.meeting"):
            self.assertIn(model_name, controls, f"no role could create a plain {model_name}: the attack proves nothing")

    # ------------------------------------------------------------------
    # Transitions and other methods
    # ------------------------------------------------------------------
    def action_names(self, model_name):
        model = self.env[model_name]
        return sorted(name for name in dir(type(model)) if name.startswith("action_") and callable(getattr(model, name)))

    def test_transitions_refused_from_wrong_state_and_role(self):
        leaks, attempts = [], 0
        for model_name in self.models:
            Model = self.env[model_name]
            transitions = getattr(Model, "_transitions", {})
            record = self.fixtures[model_name]
            for action, transition in sorted(transitions.items()):
                self.assertIn(action, self.action_names(model_name), f"{model_name}: no method {action}")
                state_field = Model._workflow_state_field
                states = [value for value, _l in record._fields[state_field]._description_selection(self.env)]
                wrong = [state for state in states if state not in transition.sources][:2]
                for state in wrong:
                    with workflow_step(model_name):
                        record.sudo().write({state_field: state})
                    before = self.snapshot(record)
                    for role in ("officer", "gm_office", "administrator"):
                        _result, error = self.rpc(role, model_name, action, [record.ids],
                                                  {"context": self.forged_context})
                        attempts += 1
                        if error is None or self.snapshot(record) != before:
                            leaks.append(f"{role} took {model_name}.{action} from {state}")
                with workflow_step(model_name):
                    record.sudo().write({state_field: transition.sources[0]})
                before = self.snapshot(record)
                for role, (user, _password) in self.roles.items():
                    if record.sudo()._may_take(action, user):
                        continue
                    _result, error = self.rpc(role, model_name, action, [record.ids],
                                              {"context": self.forged_context})
                    attempts += 1
                    if error is None or self.snapshot(record) != before:
                        leaks.append(f"{role} took {model_name}.{action} without the role: {error}")
                    elif "AccessError" not in error:
                        leaks.append(f"{role}: {model_name}.{action} refused for another reason: {error}")
        self.assertFalse(leaks, "\n".join(leaks))
        self.assertGreater(attempts, 100)

    def test_other_actions_change_no_workflow_fact(self):
        leaks, attempts = [], 0
        for model_name in self.models:
            Model = self.env[model_name]
            transitions = getattr(Model, "_transitions", {})
            record = self.fixtures[model_name]
            for action in self.action_names(model_name):
                if action in transitions:
                    continue
                for role in self.roles:
                    before = self.snapshot(record)
                    self.rpc(role, model_name, action, [record.ids], {"context": self.forged_context})
                    attempts += 1
                    if self.snapshot(record) != before:
                        leaks.append(f"{role}: {model_name}.{action} (not a declared step) changed workflow facts")
        self.assertFalse(leaks, "\n".join(leaks))
        self.assertGreater(attempts, 50)

    def test_private_steps_are_unreachable(self):
        """The server's own steps are private methods: no RPC reaches them,
        over JSON-RPC nor XML-RPC."""
        case = self.case
        before = self.snapshot(case)
        for method, args in (
            ("_set_state", ["closed"]),
            ("_workflow_write", [{"state": "closed"}]),
            ("_approval_approve", ["ok"]),
            ("_record_customer_decision", ["agreed"]),
        ):
            _result, error = self.rpc("officer", "complaint.case", method, [case.ids, *args])
            self.assertIsNotNone(error, method)
        user, password = self.roles["officer"]
        proxy = xmlrpc.client.ServerProxy(f"{self.base_url()}/xmlrpc/2/object")
        with self.assertRaises(xmlrpc.client.Fault):
            proxy.execute_kw(self.env.cr.dbname, user.id, password, "complaint.case", "write",
                             [case.ids, {"state": "closed"}],
                             {"context": {"complaint_state_transition": True}})
        self.assertEqual(self.snapshot(case), before)
