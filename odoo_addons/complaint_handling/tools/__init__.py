from .working_calendar import add_working_days
