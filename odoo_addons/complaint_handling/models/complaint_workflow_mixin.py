from odoo import _, api, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext

from ..tools import in_workflow_step, workflow_step

# Modules whose read-only fields are workflow facts (this addon and its glue addons).
WORKFLOW_MODULE_PREFIX = "complaint_handling"


class ComplaintWorkflowMixin(models.AbstractModel):
    """One state machine for every complaint document, enforced against
    every caller (web client, JSON-RPC, XML-RPC, scripts).

    - **Workflow fields**: every field this addon declares read-only (the
      status, approvals, who decided what and when, stamps, counters, the
      number) is written only by the server's own steps, inside
      :func:`~..tools.workflow.workflow_step`, which no remote caller can
      enter. Any other create or write naming one is refused with an error
      naming the fields, whatever the context says; ``default_<field>``
      context keys for them are ignored. The guard is this mixin's
      ``create`` and ``write``: a document's own ``create`` that adds a
      workflow value itself (its number) checks the caller's values first
      (``_check_workflow_fields``) and creates inside a step.
    - **Transitions**: a document declares ``_transitions``, a dict
      ``{action method name: Transition}``; each ``action_*`` method starts
      with ``self._check_transition(name)`` (who, from which state, what must
      be filled) and writes through ``_workflow_write``.
    """

    _name = "complaint.workflow.mixin"
    _description = "Complaint Workflow Mixin"

    _transitions = {}
    # The field holding the document's status, which transitions start from.
    _workflow_state_field = "state"

    # ------------------------------------------------------------------
    # Workflow fields
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _workflow_field_names(self):
        """Fields written only by the server's steps: the read-only fields
        this addon declares on the model (related ones included)."""
        return frozenset(
            name
            for name, field in self._fields.items()
            if field.readonly
            and (field._module or "").startswith(WORKFLOW_MODULE_PREFIX)
        )

    def _in_server_step(self):
        """Inside one of the server's own steps, or loading module data (the
        superuser while the registry loads): nothing a remote caller can be."""
        return in_workflow_step(self._name) or (self.env.su and not self.pool.ready)

    def _check_workflow_fields(self, field_names):
        """Refuse a client's create or write of workflow fields."""
        if self._in_server_step():
            return
        forged = sorted(set(field_names) & self._workflow_field_names())
        if forged:
            raise AccessError(
                _(
                    "%(model)s: %(fields)s cannot be written directly; only the document's "
                    "own steps (its buttons) set them.",
                    model=self._description,
                    fields=", ".join(
                        "'%s' (%s)" % (name, self._fields[name].get_description(self.env)["string"])
                        for name in forged
                    ),
                )
            )

    @api.model
    def _without_forged_defaults(self):
        """This model's environment without ``default_<field>`` context keys
        for workflow fields, unless inside a step."""
        if self._in_server_step():
            return self
        forged = {f"default_{name}" for name in self._workflow_field_names()} & set(self.env.context)
        if not forged:
            return self
        context = {key: value for key, value in self.env.context.items() if key not in forged}
        return self.with_env(self.env(context=context))

    # ------------------------------------------------------------------
    # ORM: every create and write of a workflow document is guarded here,
    # whatever the document's own create and write add.
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_workflow_fields(set().union(*vals_list))
        return super(ComplaintWorkflowMixin, self._without_forged_defaults()).create(vals_list)

    def write(self, vals):
        self._check_workflow_fields(vals)
        return super().write(vals)

    def _workflow_write(self, values):
        """Write workflow fields as the server's own step."""
        with workflow_step(self._name):
            return self.write(values)

    @api.model
    def _workflow_create(self, vals_list):
        """Create records with workflow fields as the server's own step."""
        with workflow_step(self._name):
            return self.create(vals_list)

    def _set_state(self, state, **values):
        """The one place a document changes status: every transition ends here."""
        previous = {record.id: record[self._workflow_state_field] for record in self}
        values["state"] = state
        result = self._workflow_write(values)
        self._workflow_state_changed(previous)
        return result

    def _workflow_state_changed(self, previous):
        """Hook: the records of self changed status; `previous` maps each
        record's id to its former status (it may be the same)."""

    # ------------------------------------------------------------------
    # Transitions
    # ------------------------------------------------------------------
    def _state_label(self, state):
        field = self._fields[self._workflow_state_field]
        return dict(field._description_selection(self.env))[state]

    def _group_names(self, xmlids):
        groups = self.env["res.groups"].sudo().browse(
            [self.env.ref(xmlid).id for xmlid in xmlids]
        )
        return _(" or ").join(groups.mapped("full_name"))

    def _may_take(self, name, user=None):
        """Whether `user` (default: the current user) may take transition
        `name` on every record of self: the group and party conditions only."""
        transition = self._transitions[name]
        if user is None:
            if self.env.su:
                return True
            user = self.env.user
        if transition.groups and not any(user.has_group(g) for g in transition.groups):
            return False
        if transition.party:
            return all(getattr(record, transition.party)(user) for record in self)
        return True

    def _check_transition(self, name):
        """Refuse transition `name` (an ``action_*`` method's name) with an
        error naming what is wrong: who may take it (AccessError), the state
        it starts from, or the fields to fill first (UserError)."""
        transition = self._transitions[name]
        label = transition.label._translate(self.env.lang or "en_US")
        user = self.env.user
        if not self.env.su and transition.groups and not any(
            user.has_group(group) for group in transition.groups
        ):
            raise AccessError(
                _(
                    "Only %(groups)s may %(action)s %(documents)s.",
                    groups=self._group_names(transition.groups),
                    action=label,
                    documents=self._description,
                )
            )
        for record in self:
            state = record[self._workflow_state_field]
            if state not in transition.sources:
                raise UserError(
                    _(
                        "%(document)s is %(state)s; you can %(action)s it only when it is "
                        "%(allowed)s.",
                        document=record.display_name,
                        state=record._state_label(state),
                        action=label,
                        allowed=_(" or ").join(record._state_label(s) for s in transition.sources),
                    )
                )
            if not self.env.su and transition.party and not getattr(record, transition.party)(user):
                raise AccessError(
                    _(
                        "You cannot %(action)s %(document)s: it is another party's turn.",
                        action=label,
                        document=record.display_name,
                    )
                )
            missing = [
                record._fields[fname].get_description(self.env)["string"]
                for fname in transition.required
                if not record._is_filled(fname)
            ]
            if missing:
                raise UserError(
                    _(
                        "Before you %(action)s %(document)s, fill in: %(fields)s.",
                        action=label,
                        document=record.display_name,
                        fields=", ".join(missing),
                    )
                )

    def _is_filled(self, fname):
        self.ensure_one()
        value = self[fname]
        if self._fields[fname].type == "html":
            return bool(html2plaintext(value or "").strip())
        return bool(value)
