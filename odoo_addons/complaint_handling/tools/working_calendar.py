from datetime import datetime, time, timedelta

import pytz


def working_day_ends(calendar, received, count):
    """Ends of the first `count` working days after the day of `received`.

    `received` is a naive UTC datetime, as Odoo stores them. The day of receipt
    does not count; weekends and the calendar's public holidays (global leaves)
    are skipped by the resource API. Each end is the close of that day's last
    working interval, as a naive UTC datetime. One query of the calendar
    serves every deadline of a case.
    """
    if count <= 0:
        return []
    tz = pytz.timezone(calendar.tz or "UTC")
    local_day = pytz.utc.localize(received).astimezone(tz).date()
    start = tz.localize(datetime.combine(local_day + timedelta(days=1), time.min))
    ends = {}
    span = timedelta(days=max(14, count * 2))
    while len(ends) < count and start < tz.localize(datetime.combine(local_day, time.min)) + timedelta(days=400):
        for _start, stop, _meta in calendar._work_intervals_batch(start, start + span)[False]:
            day = _start.astimezone(tz).date()
            ends[day] = max(ends.get(day, stop), stop)
        start += span
    return [
        ends[day].astimezone(pytz.utc).replace(tzinfo=None) for day in sorted(ends)[:count]
    ]


def add_working_days(calendar, received, days):
    """End of the `days`-th working day after the day of `received`, or False."""
    ends = working_day_ends(calendar, received, days)
    return ends[days - 1] if days and len(ends) >= days else False
