from . import complaint_reply_wizard
from . import complaint_follow_up_wizard
