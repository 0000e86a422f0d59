from . import complaint_reply_wizard
from . import complaint_follow_up_wizard
from . import complaint_approval_comment_wizard
from . import complaint_penalty_apply_wizard
from . import complaint_penalty_review_wizard
from . import complaint_penalty_export_wizard
from . import complaint_monthly_report_wizard
