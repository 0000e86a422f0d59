from .working_calendar import add_working_days, working_day_ends
from .download import attach_file, download_action, download_url
from .workflow import Transition, in_workflow_step, workflow_step
