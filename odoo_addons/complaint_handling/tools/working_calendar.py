from datetime import datetime, time, timedelta

import pytz


def add_working_days(calendar, received, days):
    """End of the `days`-th working day after the day of `received`.

    `received` is a naive UTC datetime, as Odoo stores them. The day of receipt
    does not count; weekends and the calendar's public holidays (global leaves)
    are skipped by the resource API. Returns a naive UTC datetime: the end of
    the last working interval of that day, or False when `days` is 0.
    """
    if not days:
        return False
    tz = pytz.timezone(calendar.tz or "UTC")
    local_day = pytz.utc.localize(received).astimezone(tz).date()
    next_day = tz.localize(datetime.combine(local_day + timedelta(days=1), time.min))
    # plan_days gives a moment inside the N-th working day; take that day's last interval end.
    moment = calendar.plan_days(days, next_day, compute_leaves=True)
    if not moment:
        return False
    day_start = tz.localize(datetime.combine(moment.astimezone(tz).date(), time.min))
    intervals = calendar._work_intervals_batch(day_start, day_start + timedelta(days=1))[False]
    end = max((stop for _start, stop, _meta in intervals), default=moment)
    return end.astimezone(pytz.utc).replace(tzinfo=None)
