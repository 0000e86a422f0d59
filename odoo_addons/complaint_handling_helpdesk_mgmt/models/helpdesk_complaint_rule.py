from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HelpdeskComplaintRule(models.Model):
    """A rule escalating matching tickets into complaint cases automatically,
    when they are created or changed. There is none by default: automatic
    escalation is off until a helpdesk manager adds a rule."""

    _name = "helpdesk.complaint.rule"
    _description = "Helpdesk Automatic Complaint Escalation Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", string="Company", help="Empty: tickets of every company."
    )
    team_ids = fields.Many2many("helpdesk.ticket.team", string="Teams")
    category_ids = fields.Many2many("helpdesk.ticket.category", string="Categories")
    tag_ids = fields.Many2many("helpdesk.ticket.tag", string="Tags")
    keywords = fields.Char(
        help="Comma-separated words; a ticket whose title contains one of them matches "
        "(case-insensitive), e.g. 投诉, complaint.",
    )

    @api.constrains("team_ids", "category_ids", "tag_ids", "keywords")
    def _check_criteria(self):
        for rule in self:
            if not (rule.team_ids or rule.category_ids or rule.tag_ids or rule._keyword_list()):
                raise ValidationError(self.env._(
                    "Rule %(rule)s: give at least one team, category, tag or keyword.", rule=rule.name
                ))

    def _keyword_list(self):
        self.ensure_one()
        text = (self.keywords or "").replace("，", ",")
        return [word.strip().casefold() for word in text.split(",") if word.strip()]

    def _matches(self, ticket):
        """All the criteria given must hold: the team among the rule's teams,
        the category among its categories, one of the ticket's tags among its
        tags, one of its keywords in the ticket's title."""
        self.ensure_one()
        if self.company_id and ticket.company_id != self.company_id:
            return False
        if self.team_ids and ticket.team_id not in self.team_ids:
            return False
        if self.category_ids and ticket.category_id not in self.category_ids:
            return False
        if self.tag_ids and not (ticket.tag_ids & self.tag_ids):
            return False
        words = self._keyword_list()
        title = (ticket.name or "").casefold()
        if words and not any(word in title for word in words):
            return False
        return True

    @api.model
    def _rule_for(self, ticket):
        """The first active rule matching `ticket`, or an empty recordset."""
        for rule in self.sudo().search([]):
            if rule._matches(ticket):
                return rule
        return self.browse()
