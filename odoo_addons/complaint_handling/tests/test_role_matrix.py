"""The README's role matrix, checked cell by cell against the running system.

README.md (section "### Role matrix") documents, for each model, which role
may read, create, write and delete it, and which role may take each step of
its state machine. This test reads those tables and compares every cell with
the access rights and the transitions' group and party conditions, and fails
when a model declares a step the tables do not document (or documents a step
that no longer exists).
"""

import re
from pathlib import Path

from odoo.tests import new_test_user, tagged

from .common import ComplaintCommon

# addon/tests -> addon -> odoo_addons -> repository root
README = Path(__file__).resolve().parents[3] / "README.md"
SECTION = "### Role matrix"

G = "complaint_handling.group_complaint_"
# Column title -> the group its user holds (implied groups come with it).
ROLE_GROUPS = {
    "User": f"{G}user",
    "QA": f"{G}quality",
    "Dept Head": f"{G}department_head",
    "Officer": f"{G}officer",
    "GM Office": f"{G}gm_office",
    "Finance": f"{G}finance",
    "Marketing Dir.": f"{G}marketing_director",
    "Admin": f"{G}manager",
    "Intake": f"{G}intake",
}
ROLES = tuple(ROLE_GROUPS)

# README operation -> the ORM's operation name.
CRUD = {"read": "read", "create": "create", "write": "write", "delete": "unlink"}
ALLOWED, REFUSED, PARTY = "✓", "–", "party"
CELLS = (ALLOWED, REFUSED, PARTY)

# The models the matrix must document, on top of every workflow model.
REQUIRED_MODELS = (
    "complaint.case",
    "complaint.solution.line",
    "complaint.major.incident",
    "complaint.contact.sheet",
    "complaint.contact.sheet.action",
    "complaint.penalty.notice",
    "complaint.penalty.notice.line",
    "complaint.review.meeting",
    "complaint.review.action",
    "complaint.audit.export",
    "complaint.approval.review",
    "complaint.call",
    "complaint.category",
    "complaint.sla.policy",
    "complaint.approval.rule",
)

TRANSITION_CELL = re.compile(r"^`(action_[a-z0-9_]+)`(?:\s*\(.*\))?$")
SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")


class RoleMatrixError(Exception):
    pass


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_role_matrix(text):
    """The README's role matrix: {(model, operation): {role: cell}}, where
    operation is a CRUD name of the README (read, create, write, delete) or
    a transition's method name. The model column may be left empty on the
    rows following a model's first row."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == SECTION]
    if len(starts) != 1:
        raise RoleMatrixError(f"{README} has {len(starts)} '{SECTION}' headings; expected exactly one.")
    matrix = {}
    header = model = None
    for number, line in enumerate(lines[starts[0] + 1:], start=starts[0] + 2):
        stripped = line.strip()
        if re.match(r"^#{1,3} ", stripped):
            break  # the next section
        if not stripped.startswith("|"):
            header = model = None  # a table ends at its first non-table line
            continue
        cells = _cells(stripped)
        where = f"{README.name}, line {number}"
        if [c.lower() for c in cells[:2]] == ["model", "operation"]:
            if tuple(cells[2:]) != ROLES:
                raise RoleMatrixError(
                    f"{where}: the role columns are {cells[2:]}; expected {list(ROLES)} in this order."
                )
            header, model = cells, None
            continue
        if all(SEPARATOR_CELL.match(c) for c in cells):
            continue
        if header is None:
            raise RoleMatrixError(f"{where}: a table row without a '| model | operation | ...' header.")
        if len(cells) != len(header):
            raise RoleMatrixError(f"{where}: {len(cells)} cells; the header has {len(header)}.")
        model = cells[0].strip("`") or model
        if not model:
            raise RoleMatrixError(f"{where}: the table's first row names no model.")
        operation = cells[1]
        transition = TRANSITION_CELL.match(operation)
        if transition:
            operation = transition.group(1)
        elif operation not in CRUD:
            raise RoleMatrixError(
                f"{where}: operation {operation!r} is neither one of {list(CRUD)} nor "
                f"'`action_...` (label)'."
            )
        values = dict(zip(ROLES, cells[2:]))
        wrong = {role: value for role, value in values.items() if value not in CELLS}
        if wrong:
            raise RoleMatrixError(f"{where}: cells {wrong} are none of {list(CELLS)}.")
        if (model, operation) in matrix:
            raise RoleMatrixError(f"{where}: {model} / {operation} appears twice.")
        matrix[model, operation] = values
    if not matrix:
        raise RoleMatrixError(f"{README}: the '{SECTION}' section has no table.")
    return matrix


@tagged("post_install", "-at_install")
class TestRoleMatrix(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marketing_director = new_test_user(
            cls.env, login="matrix_marketing_director", name="Matrix Marketing Director",
            groups=f"base.group_user,{G}marketing_director",
        )
        cls.administrator = new_test_user(
            cls.env, login="matrix_administrator", name="Matrix Administrator",
            groups=f"base.group_user,{G}manager",
        )
        cls.role_users = {
            "User": cls.agent,
            "QA": cls.quality,
            "Dept Head": cls.head_production,
            "Officer": cls.officer,
            "GM Office": cls.gm,
            "Finance": cls.finance,
            "Marketing Dir.": cls.marketing_director,
            "Admin": cls.administrator,
            "Intake": cls.intake_bot,
        }
        cls._matrix = None

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def matrix(self):
        if TestRoleMatrix._matrix is None:
            if not README.is_file():
                self.fail(f"README not found at {README}: the role matrix test reads its '{SECTION}' section.")
            try:
                TestRoleMatrix._matrix = parse_role_matrix(README.read_text(encoding="utf-8"))
            except RoleMatrixError as error:
                self.fail(f"README role matrix unreadable: {error}")
        return TestRoleMatrix._matrix

    def workflow_models(self):
        """{model name: its _transitions} of every concrete workflow model."""
        mixin = self.env.registry["complaint.workflow.mixin"]
        return {
            name: cls._transitions
            for name, cls in self.env.registry.items()
            if not cls._abstract and issubclass(cls, mixin) and cls._transitions
        }

    def neutral_record(self, model_name, depth=0):
        """An in-memory record of `model_name` that favours nobody: every
        link and choice empty, defaults included (no owner, no issuer, no
        unit, no reviewer, no routing, no company); its required links to
        other workflow documents point to neutral records. Whoever passes a
        party condition on it is the party of every record."""
        Model = self.env[model_name]
        mixin = self.env.registry["complaint.workflow.mixin"]
        values = {}
        for name, field in Model._fields.items():
            if field.compute or field.related or field.type not in ("many2one", "many2many", "selection"):
                continue
            values[name] = False
            if (
                depth < 3 and field.type == "many2one" and field.required
                and issubclass(self.env.registry[field.comodel_name], mixin)
            ):
                values[name] = self.neutral_record(field.comodel_name, depth + 1)
        return Model.new(values)

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------
    def test_role_users(self):
        """Each column's user holds its role's group."""
        for role, group in ROLE_GROUPS.items():
            self.assertTrue(self.role_users[role].has_group(group), f"the {role} user lacks {group}")
        self.assertFalse(self.agent.has_group(f"{G}officer"))
        self.assertFalse(self.marketing_director.has_group(f"{G}officer"))
        self.assertFalse(self.finance.has_group(f"{G}user"))

    def test_matrix_covers_every_model_and_transition(self):
        matrix = self.matrix()
        documented = {}
        for model, operation in matrix:
            documented.setdefault(model, set()).add(operation)
        workflow = self.workflow_models()
        self.assertIn("complaint.case", workflow, "workflow models not found: the discovery is broken")
        problems = []
        for model in sorted(documented):
            if model not in self.env:
                problems.append(f"{model}: documented, but no such model")
        for model in sorted(set(REQUIRED_MODELS) | set(workflow)):
            operations = documented.get(model, set())
            if not operations:
                problems.append(f"{model}: missing from the role matrix")
                continue
            for crud in CRUD:
                if crud not in operations:
                    problems.append(f"{model}: no '{crud}' row")
            declared = set(workflow.get(model, {}))
            for name in sorted(declared - operations):
                problems.append(f"{model}: transition {name} is declared but not documented")
            for name in sorted(operations - declared - set(CRUD)):
                problems.append(f"{model}: {name} is documented but not a declared transition")
        self.assertFalse(problems, "README role matrix incomplete:\n" + "\n".join(problems))

    def test_access_rights_match_matrix(self):
        mismatches = []
        for (model, operation), cells in sorted(self.matrix().items()):
            if operation not in CRUD or model not in self.env:
                continue
            for role, cell in cells.items():
                if cell == PARTY:
                    mismatches.append(f"{model} / {operation} / {role}: 'party' is for transitions only")
                    continue
                allowed = self.env[model].with_user(self.role_users[role]).has_access(CRUD[operation])
                if allowed != (cell == ALLOWED):
                    mismatches.append(
                        f"{model} / {operation} / {role}: README says {cell}, "
                        f"the access rights say {ALLOWED if allowed else REFUSED}"
                    )
        self.assertFalse(mismatches, "README role matrix vs access rights:\n" + "\n".join(mismatches))

    def test_transitions_match_matrix(self):
        mismatches = []
        for (model, operation), cells in sorted(self.matrix().items()):
            if operation in CRUD or model not in self.env:
                continue
            transition = self.env[model]._transitions.get(operation)
            if transition is None:
                continue  # reported by the coverage test
            neutral = self.neutral_record(model)
            for role, cell in cells.items():
                user = self.role_users[role]
                readable = self.env[model].with_user(user).has_access("read")
                if not transition.party:
                    # Group condition only: the record does not matter.
                    may = self.env[model].with_user(user)._may_take(operation)
                    actual = ALLOWED if may else REFUSED
                    why = f" (groups: {', '.join(transition.groups) or 'none'})"
                elif transition.groups and not any(user.has_group(g) for g in transition.groups):
                    actual, why = REFUSED, f" (groups: {', '.join(transition.groups)})"
                elif neutral.with_user(user)._may_take(operation):
                    actual, why = ALLOWED, f" (passes {transition.party} on every record)"
                elif not readable:
                    actual, why = REFUSED, f" (cannot read {model}, so is never its party)"
                else:
                    actual, why = PARTY, f" (only as the record's party: {transition.party})"
                if cell == PARTY and not transition.party:
                    why = " (the transition has no party condition)" + why
                if cell != actual:
                    mismatches.append(
                        f"{model} / {operation} / {role}: README says {cell}, the system says {actual}{why}"
                    )
                elif cell != REFUSED and not readable:
                    mismatches.append(
                        f"{model} / {operation} / {role}: may take the step but cannot read {model}"
                    )
        self.assertFalse(mismatches, "README role matrix vs transitions:\n" + "\n".join(mismatches))
