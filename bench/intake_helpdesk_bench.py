"""Intake beside OCA helpdesk_mgmt doing the same job, in one Odoo, one database.

Not a test: it prints figures. Run it through `bench/intake_helpdesk` (which
installs helpdesk_mgmt from PyPI beside complaint_handling in a benchmark
database and starts Odoo); this client only talks XML-RPC to a running Odoo:

    python bench/intake_helpdesk_bench.py --url URL --db DB \\
        --intake-key KEY --helpdesk-login LOGIN --helpdesk-key KEY --dsn DSN

The job, for both: batches of 100 items, 60 % phone calls from known callers
(phone number only), 40 % web forms from known e-mails.
- ours: one `complaint.case.intake` call per batch (partner matching, SLA
  deadlines, numbering, calls logged, acknowledgements queued);
- helpdesk_mgmt: an integration searching the partners of the batch in one
  `search_read` (by E.164 phone or normalised e-mail), then one `create` of
  100 `helpdesk.ticket`s (number, stage, partner, channel).
Rounds are interleaved (ours first in odd rounds, the peer first in even
ones); it prints the rate of each round, the medians and their ratio.
"""

import argparse
import json
import random
import statistics
import time
import xmlrpc.client

from intake_bench import load_partners


def items(run, count, pool, seed):
    rng = random.Random(seed)
    for i in range(count):
        known = rng.randint(1, pool)
        ref = f"{run}-{i}"
        if rng.random() < 0.6:
            yield {
                "channel": "phone", "source_system": "bench_pbx", "external_ref": ref, "customer": {},
                "description": "Caller reports a defect.",
                "call": {"call_id": ref, "direction": "inbound", "status": "completed",
                         "caller_number": f"+86 138 {known:08d}", "duration": rng.randint(30, 600)},
            }
        else:
            yield {
                "channel": "web_form", "source_system": "bench_form", "external_ref": ref,
                "customer": {"name": f"Bench Customer {known}", "email": f"bench{known}@example.cn"},
                "subject": "Web complaint", "description": "Delivery was late.",
            }


class Client:
    def __init__(self, url, db, login, key):
        self.db, self.key = db, key
        self.uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, login, key, {})
        if not self.uid:
            raise SystemExit(f"authentication failed for {login}")
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        return self.models.execute_kw(self.db, self.uid, self.key, model, method, list(args), kwargs)


def ours(client, batch):
    return [r["status"] for r in client("complaint.case", "intake", batch)]


def helpdesk(client, batch, channels):
    """What an integration does with helpdesk_mgmt: find the partners of the
    batch in one call, then create the tickets in one call."""
    phones = {i["call"]["caller_number"].replace(" ", "") for i in batch if i.get("call")}
    emails = {i["customer"]["email"] for i in batch if i["customer"].get("email")}
    partners = client("res.partner", "search_read",
                      ["|", ("phone_sanitized", "in", sorted(phones)), ("email_normalized", "in", sorted(emails))],
                      fields=["phone_sanitized", "email_normalized", "name", "email"])
    by_phone = {p["phone_sanitized"]: p for p in partners if p["phone_sanitized"]}
    by_email = {p["email_normalized"]: p for p in partners if p["email_normalized"]}
    tickets = []
    for item in batch:
        if item.get("call"):
            partner = by_phone.get(item["call"]["caller_number"].replace(" ", ""))
            channel, name = channels["phone"], f"Call {item['external_ref']}"
        else:
            partner = by_email.get(item["customer"]["email"])
            channel, name = channels["web"], item["subject"]
        tickets.append({
            "name": name, "description": item["description"], "channel_id": channel,
            "partner_id": partner["id"] if partner else False,
            "partner_name": partner["name"] if partner else item["customer"].get("name"),
            "partner_email": partner["email"] if partner else item["customer"].get("email"),
        })
    ids = client("helpdesk.ticket", "create", tickets)
    return ["created"] * len(ids)


def run(send, batches):
    statuses = {}
    start = time.perf_counter()
    for batch in batches:
        for status in send(batch):
            statuses[status] = statuses.get(status, 0) + 1
    seconds = time.perf_counter() - start
    return sum(map(len, batches)) / seconds, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--intake-login", default="complaint_intake_bot")
    parser.add_argument("--intake-key", required=True)
    parser.add_argument("--helpdesk-login", required=True)
    parser.add_argument("--helpdesk-key", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--items", type=int, default=1000, help="items per side and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    load_partners(args.dsn, args.partners)
    intake = Client(args.url, args.db, args.intake_login, args.intake_key)
    peer = Client(args.url, args.db, args.helpdesk_login, args.helpdesk_key)
    channels = {
        name: peer("helpdesk.ticket.channel", "search", [("name", "=ilike", name)], limit=1)[0]
        for name in ("phone", "web")
    }

    def batches(side, round_no):
        job = list(items(f"{side}{round_no}", args.items, min(1000, args.partners), seed=round_no))
        return [job[i:i + args.batch] for i in range(0, len(job), args.batch)]

    # Warm-up (caches, first compiles), not counted.
    run(lambda b: ours(intake, b), batches("warm-ours", 0)[:1])
    run(lambda b: helpdesk(peer, b, channels), batches("warm-peer", 0)[:1])
    rates = {"ours": [], "helpdesk_mgmt": []}
    statuses = {"ours": {}, "helpdesk_mgmt": {}}
    sides = [("ours", lambda b: ours(intake, b)), ("helpdesk_mgmt", lambda b: helpdesk(peer, b, channels))]
    for round_no in range(1, args.rounds + 1):
        order = sides if round_no % 2 else sides[::-1]
        for name, send in order:
            rate, counted = run(send, batches(name, round_no))
            rates[name].append(rate)
            for status, count in counted.items():
                statuses[name][status] = statuses[name].get(status, 0) + count
        print(f"round {round_no}: ours {rates['ours'][-1]:.1f} items/s, "
              f"helpdesk_mgmt {rates['helpdesk_mgmt'][-1]:.1f} items/s", flush=True)
    ours_median = statistics.median(rates["ours"])
    peer_median = statistics.median(rates["helpdesk_mgmt"])
    ratio = ours_median / peer_median
    print(json.dumps({"partners": args.partners, "items_per_round": args.items, "rounds": args.rounds,
                      "batch": args.batch, "ours": [round(r, 1) for r in rates["ours"]],
                      "helpdesk_mgmt": [round(r, 1) for r in rates["helpdesk_mgmt"]],
                      "statuses": statuses}))
    print(f"intake {ours_median:.1f} cases/s vs helpdesk_mgmt {peer_median:.1f} tickets/s (medians "
          f"of {args.rounds} interleaved rounds): ratio {ratio:.2f} "
          f"(target >= 1.00: {'met' if ratio >= 1 else 'NOT met'})")


if __name__ == "__main__":
    main()
