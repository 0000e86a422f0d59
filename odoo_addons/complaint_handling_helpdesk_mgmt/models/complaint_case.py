from odoo import fields, models


class ComplaintCase(models.Model):
    _inherit = "complaint.case"

    helpdesk_ticket_ids = fields.One2many(
        "helpdesk.ticket", "complaint_case_id", string="Helpdesk Tickets", readonly=True,
    )
    helpdesk_ticket_count = fields.Integer(
        string="Tickets", compute="_compute_helpdesk_ticket_count",
    )

    def _compute_helpdesk_ticket_count(self):
        for case in self:
            case.helpdesk_ticket_count = len(case.sudo().helpdesk_ticket_ids)

    def action_view_helpdesk_tickets(self):
        self.ensure_one()
        tickets = self.sudo().helpdesk_ticket_ids
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Helpdesk Tickets"),
            "res_model": "helpdesk.ticket",
            "domain": [("id", "in", tickets.ids)],
            "view_mode": "list,form",
        }
        if len(tickets) == 1:
            action.update(res_id=tickets.id, view_mode="form")
        return action

    def _workflow_state_changed(self, previous):
        super()._workflow_state_changed(previous)
        for case in self:  # the milestones that are events are told to the tickets
            event = case._milestone_event(previous.get(case.id))
            if event:
                case._helpdesk_tell_tickets(event == "case.reopened")

    def _helpdesk_tell_tickets(self, reopened):
        """Post the case's new status in its tickets' chatter (an internal
        note: the helpdesk agent decides what to tell the customer) and move
        the tickets to their team's stage for closed complaints."""
        self.ensure_one()
        tickets = self.sudo().helpdesk_ticket_ids
        if not tickets:
            return
        if reopened:
            body = self.env._("Complaint case %s was reopened.", self.name)
        else:
            body = self.env._(
                "Complaint case %(case)s: %(status)s.", case=self.name, status=self._state_label(self.state)
            )
        for ticket in tickets:
            ticket.message_post(body=body, subtype_xmlid="mail.mt_note")
            stage = ticket.team_id.complaint_closed_stage_id
            if self.state == "closed" and stage and ticket.stage_id != stage:
                ticket.stage_id = stage
