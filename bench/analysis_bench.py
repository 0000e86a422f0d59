"""The analysis side at scale: generate, then measure. Not a test: it prints figures.

Runs inside `odoo shell` (see bench/analysis, which passes the sizes in
BENCH_CASES, BENCH_MESSAGES, BENCH_PARTNERS and the URL wkhtmltopdf fetches
the report's style sheets from in BENCH_REPORT_URL).

Data (seeded, so every run is the same): PARTNERS customers (loaded like
bench/intake does); 300 products, 8 departments, 40 handlers; CASES cases over
the last 24 months, more of them lately, on working hours and mostly on
weekdays, with the category, channel, urgency, kind, product (a few products
draw most complaints) and customer (a few customers complain often)
distributions of a manufacturer; old cases mostly closed, recent ones open in
every state, with first responses, deadlines, SLA outcomes, working days to
close, satisfaction and reopenings consistent with them; MESSAGES chatter
messages spread over the cases. Cases and messages go in with SQL (the ORM
would take an hour); the stored figures are computed here as the addon would.

Each figure is the median of several runs with a cold ORM cache, as the
administrator (record rules apply), beside the same operation done with the
standard read_group of complaint.case.
"""

import os
import random
import statistics
import sys
import time
from datetime import timedelta

from psycopg2.extras import execute_values

from odoo import Command, fields
from odoo.addons.complaint_handling.models.complaint_case import OPEN_STATES

CASES = int(os.environ.get("BENCH_CASES", 100_000))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 300_000))
PARTNERS = int(os.environ.get("BENCH_PARTNERS", 20_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 5))
rng = random.Random(42)
cr = env.cr  # noqa: F821 - odoo shell provides `env`
env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True,  # noqa: F821
                       mail_notrack=True, no_reset_password=True))
now = fields.Datetime.now().replace(microsecond=0)


def weighted(options):
    """(values, cumulative weights) for rng.choices."""
    values, weights = zip(*options)
    total, cumulative = 0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return list(values), cumulative


def zipf(values, exponent):
    return weighted([(value, 1 / (rank + 1) ** exponent) for rank, value in enumerate(values)])


def pick(table):
    return rng.choices(table[0], cum_weights=table[1])[0]


def working_days_between(start, end):
    """Weekdays after the day of `start` up to the day of `end` (what the
    addon counts on a Monday-to-Friday calendar without holidays)."""
    first, last = start.date() + timedelta(days=1), end.date()
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(rest):
        if (first + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


# ----------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------
started = time.perf_counter()
sys.path.insert(0, os.environ["BENCH_DIR"])
from intake_bench import load_partners  # noqa: E402 - the same customers as bench/intake

load_partners(os.environ["BENCH_DSN"], PARTNERS)
cr.commit()  # see the partners loaded through another connection
cr.execute("SELECT id FROM res_partner WHERE name LIKE 'Bench Customer %%' ORDER BY id")
partner_ids = [row[0] for row in cr.fetchall()]
rng.shuffle(partner_ids)

company = env.company
company.resource_calendar_id.tz = "Asia/Shanghai"
departments = env["hr.department"].create([
    {"name": name} for name in ("Customer Service", "Production", "Quality Assurance", "Logistics", "Sales",
                                "Research & Development", "Purchasing", "After-sales Service")
])
handler_group = env.ref("complaint_handling.group_complaint_user")
handlers = env["res.users"].create([
    {"name": f"Handler {i:02d}", "login": f"bench.handler{i:02d}", "groups_id": [Command.link(handler_group.id)]}
    for i in range(40)
])
products = env["product.product"].create([{"name": f"Product {i:03d}", "type": "consu"} for i in range(300)])
categories = env["complaint.category"].search([], order="sequence, id")
category_table = weighted(zip(categories.ids, (40, 20, 15, 10, 10, 5, 3, 3, 3)[:len(categories)]))
quality_categories = set(categories.filtered("quality_related").ids)
channel_table = weighted([
    ("phone", 35), ("email", 18), ("web_form", 14), ("online_chat", 10), ("letter", 2), ("fax", 0.5),
    ("social_media", 5), ("walk_in", 4), ("consumer_association", 2), ("dealer_letter", 3),
    ("repair_report", 2), ("sales_report", 2), ("abnormal_return", 1.5), ("subcontractor", 0.5), ("staff", 0.5),
])
urgency_table = weighted([("urgent", 5), ("important", 25), ("general", 70)])
kind_table = weighted([("appeal", 50), ("claim", 30), ("market", 20)])
product_table = zipf(products.ids, 1.1)
partner_table = zipf(partner_ids, 0.7)
department_table = weighted(zip(departments.ids, (25, 25, 15, 12, 10, 5, 4, 4)))
handlers_of = {dept: handlers.ids[i * 5:(i + 1) * 5] for i, dept in enumerate(departments.ids)}
open_state_table = weighted([("new", 10), ("acknowledged", 15), ("investigating", 35), ("solution_proposed", 12),
                             ("in_execution", 12), ("replied", 8), ("follow_up", 8)])
satisfaction_table = weighted([(1, 5), (2, 10), (3, 20), (4, 35), (5, 30)])
resolve_days = {"urgent": 1, "important": 3, "general": 5}
span = timedelta(days=730).total_seconds()


def calendar_days(working):
    return working * 7 / 5


def case_row(number):
    received = now - timedelta(seconds=span * (1 - rng.random() ** 0.7))  # more complaints lately
    if received.weekday() >= 5 and rng.random() < 0.7:
        received -= timedelta(days=received.weekday() - 4)
    received = received.replace(hour=rng.randint(0, 10), minute=rng.randint(0, 59))  # 8:00-18:59 in Shanghai
    received = min(received, now - timedelta(minutes=5))
    urgency, category = pick(urgency_table), pick(category_table)
    department = pick(department_table)
    age = (now - received).days
    roll = rng.random()
    if age > 45:
        state = "closed" if roll < 0.90 else "rejected" if roll < 0.94 else "cancelled" if roll < 0.97 else None
    elif age > 10:
        state = "closed" if roll < 0.60 else "rejected" if roll < 0.65 else "cancelled" if roll < 0.67 else None
    else:
        state = "closed" if roll < 0.20 else "cancelled" if roll < 0.22 else None
    response_deadline = received + timedelta(hours=1 if urgency == "urgent" else 24)
    resolve_deadline = received + timedelta(days=calendar_days(resolve_days[urgency]), hours=8)
    overdue_deadline = received + timedelta(days=calendar_days(7), hours=8)
    first_response = received + timedelta(hours=min(rng.lognormvariate(1.0, 1.2), 96))
    close_date = received + timedelta(days=min(rng.lognormvariate(1.2, 0.8), 60))
    if state and close_date >= now:
        state = None
    state = state or pick(open_state_table)
    ended = state in ("closed", "rejected", "cancelled")
    if state == "new" or first_response >= now:
        first_response = None
    if not ended:
        close_date = None
    # The SLA outcome, as complaint.case._sla_status_at gives it.
    response_late = response_deadline < (first_response or now)
    overdue = False
    if state == "cancelled":
        sla_status = None
    elif ended:
        sla_status = "breached" if response_late or close_date > resolve_deadline else "met"
    else:
        overdue = now > overdue_deadline
        if response_late or overdue or now > resolve_deadline:
            sla_status = "breached"
        elif (resolve_deadline - now) < 0.2 * (resolve_deadline - received):
            sla_status = "at_risk"
        else:
            sla_status = "on_track"
    breached_at = min(d for d in (response_deadline, resolve_deadline) if d) if sla_status == "breached" else None
    partner = pick(partner_table) if rng.random() < 0.85 else None
    closed = state == "closed"
    return (
        f"CPB{number:06d}", rng.choice(("Lid does not close", "Late delivery", "Rude driver", "Wrong invoice",
                                        "Scratched surface", "Missing parts", "Noisy motor", "Leaking seal")),
        company.id, state, pick(channel_table), received, partner, None if partner else f"Walk-in {number}",
        pick(product_table) if rng.random() < 0.75 else None, category, pick(kind_table), urgency,
        category in quality_categories, department,
        None if (not ended and rng.random() < 0.03) else rng.choice(handlers_of[department]),
        first_response, close_date if closed else None, close_date, response_deadline, resolve_deadline,
        overdue_deadline, sla_status, overdue, breached_at,
        (first_response - received).total_seconds() / 3600 if first_response else 0.0,
        working_days_between(received, close_date) if closed else 0.0,
        (close_date - received).total_seconds() / 3600 if closed else 0.0,
        pick(satisfaction_table) if closed and rng.random() < 0.6 else None,
        1 if closed and rng.random() < 0.03 else 0,
        round(rng.uniform(50, 5000), 2) if rng.random() < 0.3 else 0.0,
        "draft", True, received, received, 1, 1,
    )


CASE_COLUMNS = (
    "name, subject, company_id, state, channel, received_date, partner_id, customer_name, product_id, "
    "category_id, kind, urgency, quality_related, responsible_department_id, user_id, first_response_date, "
    "resolved_date, close_date, response_deadline, resolve_deadline, overdue_deadline, sla_status, is_overdue, "
    "sla_escalated_date, response_time_hours, close_working_days, close_hours, satisfaction_score, "
    "reopen_count, amount_claimed, approval_state, active, create_date, write_date, create_uid, write_uid"
)
rows = [case_row(number) for number in range(1, CASES + 1)]
rows.sort(key=lambda row: row[5])  # ids in order of receipt, as in real life
case_ids = [row[0] for row in execute_values(
    cr, f"INSERT INTO complaint_case ({CASE_COLUMNS}) VALUES %s RETURNING id", rows, page_size=5000, fetch=True,
)]
received_of = dict(zip(case_ids, (row[5] for row in rows)))
ended_of = dict(zip(case_ids, (row[17] or now for row in rows)))
del rows

note, comment = env.ref("mail.mt_note").id, env.ref("mail.mt_comment").id
author_ids = handlers.partner_id.ids
message_rows = []
for _i in range(MESSAGES):
    case_id = rng.choice(case_ids)
    start, end = received_of[case_id], ended_of[case_id]
    date = start + (end - start) * rng.random()
    kind = rng.random()
    message_rows.append((
        "complaint.case", case_id, "comment" if kind < 0.5 else "notification",
        note if kind < 0.8 else comment, "<p>Called the customer; waiting for photos of the defect.</p>",
        date, rng.choice(author_ids), date, date, 1, 1,
    ))
execute_values(
    cr, "INSERT INTO mail_message (model, res_id, message_type, subtype_id, body, date, author_id, create_date, "
        "write_date, create_uid, write_uid) VALUES %s", message_rows, page_size=10000,
)
del message_rows
cr.execute("ANALYZE complaint_case")
cr.execute("ANALYZE mail_message")
env["ir.config_parameter"].sudo().set_param("report.url", os.environ["BENCH_REPORT_URL"])
env.cr.commit()
env.invalidate_all()
print(f"data: {CASES:,} cases over 24 months, {MESSAGES:,} messages, {PARTNERS:,} partners "
      f"(generated in {time.perf_counter() - started:.0f} s)")

# ----------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------
admin = env.ref("base.user_admin")
uenv = env(user=admin.id, su=False)
Case, Report = uenv["complaint.case"], uenv["complaint.report"]


def median_seconds(operation, repeat=REPEAT):
    times = []
    for _run in range(repeat):
        uenv.invalidate_all()
        started = time.perf_counter()
        operation()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def line(label, seconds, baseline, target=None, unit="s"):
    scale = 1000 if unit == "ms" else 1
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target * scale:g} {unit}: {'met' if seconds <= target else 'NOT met'}"
    print(f"{label}: {seconds * scale:.3f} {unit} | read_group of complaint.case: {baseline * scale:.3f} {unit}"
          f"{verdict}")


# The pivot: month x category, count and SLA met rate, over all cases.
pivot = median_seconds(lambda: Report.read_group(
    [], ["case_count:sum", "sla_met_rate:avg"], ["received_date:month", "category_id"], lazy=False))
pivot_base = median_seconds(lambda: Case.read_group(
    [], ["__count"], ["received_date:month", "category_id", "sla_status"], lazy=False))
line("pivot month x category (count, SLA met rate)", pivot, pivot_base, target=1.0)

# The overview's counters, every department card.
Department = uenv["hr.department"]
cards = Department.search([])
dashboard_fields = ["complaint_open_count", "complaint_unassigned_count", "complaint_at_risk_count",
                    "complaint_overdue_count", "complaint_urgent_count", "complaint_month_count",
                    "complaint_last_month_count", "complaint_sla_met_rate"]
dashboard = median_seconds(lambda: Department.browse(cards.ids).read(dashboard_fields))
last_month, this_month, next_month = Department._complaint_month_starts()
by_department = [("responsible_department_id", "in", cards.ids)]
open_cases = by_department + [("state", "in", OPEN_STATES)]


def dashboard_with_read_group():
    for domain in (open_cases, open_cases + [("user_id", "=", False)],
                   open_cases + [("sla_status", "=", "at_risk")], open_cases + [("is_overdue", "=", True)],
                   open_cases + [("urgency", "=", "urgent")]):
        Case.read_group(domain, ["__count"], ["responsible_department_id"])
    for start, stop in ((this_month, next_month), (last_month, this_month)):
        Case.read_group(by_department + [("received_date", ">=", start), ("received_date", "<", stop)],
                        ["__count"], ["responsible_department_id", "sla_status"], lazy=False)


line(f"overview counters ({len(cards)} department cards)", dashboard,
     median_seconds(dashboard_with_read_group), target=0.5)

# The monthly PDF of last month, through wkhtmltopdf.
Wizard = uenv["complaint.monthly.report.wizard"]
wizard = Wizard.create({"month": last_month.date()})
pdf = median_seconds(lambda: wizard._render_pdf(), repeat=3)
month = [("received_date", ">=", last_month), ("received_date", "<", this_month), ("state", "!=", "cancelled")]


def month_with_read_group():
    for groupby in ("category_id", "channel", "product_id", "responsible_department_id", "sla_status"):
        Case.read_group(month, ["__count"], [groupby])


figures = median_seconds(lambda: wizard._figures())
line(f"monthly PDF (its figures alone: {figures:.3f} s)", pdf, median_seconds(month_with_read_group),
     target=5.0)

# The recurrence check of one new case (create excluded).
popular = products[0]
checks, counts = [], []
for n in range(20):
    case = Case.create({"subject": f"Bench recurrence {n}", "channel": "phone", "customer_name": "Bench",
                        "customer_phone": "+86 139 0000 0000", "category_id": categories[0].id,
                        "kind": "appeal", "urgency": "general", "product_id": popular.id})
    case.write({"is_recurring": False, "recurrence_root_id": False})
    case.flush_recordset()
    started = time.perf_counter()
    case._check_recurrence()
    checks.append(time.perf_counter() - started)
    window = [("product_id", "=", popular.id), ("category_id", "=", categories[0].id),
              ("received_date", ">", case.received_date - timedelta(days=30)),
              ("received_date", "<=", case.received_date), ("state", "!=", "cancelled")]
    started = time.perf_counter()
    Case.read_group(window, ["__count"], [])
    counts.append(time.perf_counter() - started)
env.cr.rollback()
line("recurrence check of one new case", statistics.median(checks), statistics.median(counts),
     target=0.05, unit="ms")


# The SLA cron over N open cases: every tenth case, then all of them (in a
# savepoint, rolled back), so that both runs have the same mix of cases.
# Breaches already escalated, as in steady operation; the first run over a
# backlog also escalates each breach once.
def sla_cron(every):
    cr.execute("SAVEPOINT bench_sla")
    cr.execute(
        """UPDATE complaint_case SET
               state = CASE WHEN id %% %s = 0 THEN 'investigating' ELSE 'closed' END,
               sla_escalated_date = COALESCE(sla_escalated_date, received_date)""",
        (every,),
    )
    env.invalidate_all()
    cron_env = env(context={})  # as the scheduler runs it: changes tracked
    started = time.perf_counter()
    cron_env["complaint.case"]._cron_check_sla()
    cron_env.flush_all()
    cr.precommit.run()  # what the commit adds: the chatter's tracking
    seconds = time.perf_counter() - started
    env.invalidate_all()
    started = time.perf_counter()
    Case.read_group([("state", "in", OPEN_STATES)], ["__count"], ["sla_status"])
    baseline = time.perf_counter() - started
    cr.execute("ROLLBACK TO SAVEPOINT bench_sla")
    env.invalidate_all()
    return seconds, baseline


cr.execute("SELECT count(*) FILTER (WHERE id % 10 = 0), count(*) FROM complaint_case")
small, large = cr.fetchone()
small_s, small_base = sla_cron(10)
large_s, large_base = sla_cron(1)
line(f"SLA cron, {small:,} open cases", small_s, small_base)
line(f"SLA cron, {large:,} open cases", large_s, large_base)
ratio = large_s / small_s
print(f"SLA cron growth: {large:,} / {small:,} open = {ratio:.1f}x "
      f"(target <= 12x: {'met' if ratio <= 12 else 'NOT met'})")
env.cr.rollback()
