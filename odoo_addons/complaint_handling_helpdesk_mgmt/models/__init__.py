from . import helpdesk_ticket_channel
from . import helpdesk_ticket_team
from . import helpdesk_complaint_rule
from . import helpdesk_ticket
from . import complaint_case
