import json

from odoo import fields, models

from .complaint_event_subscription import event_field

# Status reached -> event; "case.reopened" is a return to investigation from
# a case already answered or ended (see complaint.case._reopen).
STATE_EVENTS = {
    "acknowledged": "case.acknowledged",
    "solution_proposed": "case.solution_proposed",
    "replied": "case.replied",
    "closed": "case.closed",
    "rejected": "case.rejected",
    "cancelled": "case.cancelled",
}
REOPENED_FROM = ("replied", "follow_up", "closed", "rejected", "cancelled")


class ComplaintCase(models.Model):
    """Events to other systems: a case's milestones are queued as signed
    deliveries to the subscriptions of its company (complaint.event.delivery),
    in the transaction that reached them, and posted by a cron afterwards."""

    _inherit = "complaint.case"

    def _workflow_state_changed(self, previous):
        super()._workflow_state_changed(previous)
        for case in self:
            event = case._milestone_event(previous.get(case.id))
            if event:
                case._queue_event(event)

    def _milestone_event(self, previous_state):
        """The milestone the case reached by leaving `previous_state` for its
        current status ("case.acknowledged", ..., "case.reopened"), or None.
        The one definition of a milestone: events and the helpdesk glue's
        ticket updates both ask here."""
        self.ensure_one()
        if previous_state == self.state:
            return None
        if self.state == "investigating" and previous_state in REOPENED_FROM:
            return "case.reopened"
        return STATE_EVENTS.get(self.state)

    def _queue_event(self, event):
        """Queue `event` of the cases in self for every active subscription of
        their company that wants it; sent by the cron after the commit."""
        Subscription = self.env["complaint.event.subscription"].sudo()
        Delivery = self.env["complaint.event.delivery"].sudo()
        vals_list = []
        by_company = {}  # one look-up per company, not per case (intake creates cases in batches)
        for case in self:
            if case.company_id not in by_company:
                by_company[case.company_id] = Subscription.search(
                    [("company_id", "=", case.company_id.id), (event_field(event), "=", True)]
                )
            subscriptions = by_company[case.company_id]
            if subscriptions:
                payload = json.dumps(case._event_payload(event), ensure_ascii=False, sort_keys=True)
                vals_list += [
                    {"subscription_id": s.id, "case_id": case.id, "event": event, "payload": payload}
                    for s in subscriptions
                ]
        if vals_list:
            Delivery._workflow_create(vals_list)
            Delivery._trigger_sending()

    def _event_payload(self, event):
        """The JSON body of an event (Standard Webhooks' type/timestamp/data)."""
        self.ensure_one()
        base_url = self.get_base_url()
        return {
            "type": event,
            "timestamp": fields.Datetime.now().isoformat() + "Z",
            "data": {
                "case": self.name,
                "state": self.state,
                "company": self.company_id.name,
                "source_system": self.source_system or None,
                "external_ref": self.external_ref or None,
                "url": f"{base_url}/odoo/complaint.case/{self.id}",
                "portal_url": f"{base_url}{self.access_url}",
            },
        }
