"""Intake throughput over Odoo's external API, with few and with many partners.

Not a test: it prints figures. Run it through `bench/intake` (which starts
PostgreSQL and Odoo); this client only talks JSON-RPC to a running Odoo:

    python bench/intake_bench.py --url URL --login LOGIN --db DB1 DB2 --key KEY1 KEY2 \
        --dsn "dbname=DB1 ..." "dbname=DB2 ..." --partners 1000 100000 --cases 10000

It first loads --partners contacts straight into PostgreSQL (fast, realistic
Chinese mobile numbers and e-mails, sanitized columns filled as Odoo would),
then sends --cases complaints through complaint.case.intake in batches:
60 % phone calls from known callers, 25 % web forms from known e-mails,
15 % from unknown customers. Known customers come from the same first
1,000 contacts in every run, so runs differ only in the size of the
partner table. The databases are served by one Odoo and their rounds are
interleaved (alternating order); it prints the median cases per second of
each.
"""

import argparse
import json
import random
import statistics
import time

import psycopg2
import requests


def load_partners(dsn, count):
    """Insert `count` contacts cloned from one real partner row, in SQL."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM res_partner WHERE name LIKE 'Bench Customer %%'")
        existing = cr.fetchone()[0]
        if existing >= count:
            return existing
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'res_partner' AND column_name <> 'id'"
        )
        columns = [row[0] for row in cr.fetchall()]
        overrides = {
            "name": "'Bench Customer ' || g",
            "complete_name": "'Bench Customer ' || g",
            "phone": "'+86 138 ' || lpad(g::text, 8, '0')",
            "phone_sanitized": "'+86138' || lpad(g::text, 8, '0')",
            "email": "'bench' || g || '@example.cn'",
            "email_normalized": "'bench' || g || '@example.cn'",
            "mobile": "NULL",
            "ref": "NULL",
            "vat": "NULL",
            "parent_id": "NULL",
            "commercial_partner_id": "NULL",
            "is_company": "false",
            "active": "true",
        }
        select = ", ".join(overrides.get(c, f'p."{c}"') for c in columns)
        cr.execute("SELECT min(id) FROM res_partner WHERE is_company AND active")
        template = cr.fetchone()[0]
        cr.execute(
            f'INSERT INTO res_partner ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
            f"SELECT {select} FROM res_partner p, generate_series(%s, %s) g WHERE p.id = %s",
            (existing + 1, count, template),
        )
        cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id "
            "WHERE commercial_partner_id IS NULL AND name LIKE 'Bench Customer %%'"
        )
        cr.execute("ANALYZE res_partner")
    return count


def payloads(run, pool, cases, seed=42):
    """The same work whatever the number of partners: known customers are
    drawn from the first `pool` contacts, so only the table size differs."""
    rng = random.Random(seed)
    for i in range(cases):
        ref = f"{run}-{i}"
        known = rng.randint(1, pool)
        roll = rng.random()
        if roll < 0.6:
            yield {
                "channel": "phone", "source_system": "bench_pbx", "external_ref": ref, "customer": {},
                "description": "Caller reports a defect.",
                "call": {"call_id": ref, "direction": "inbound", "status": "completed",
                         "caller_number": f"+86 138 {known:08d}", "duration": rng.randint(30, 600)},
            }
        elif roll < 0.85:
            yield {
                "channel": "web_form", "source_system": "bench_form", "external_ref": ref,
                "customer": {"name": f"Bench Customer {known}", "email": f"bench{known}@example.cn"},
                "subject": "Web complaint", "description": "Delivery was late.", "category": "logistics",
            }
        else:
            yield {
                "channel": "email", "source_system": "bench_mail", "external_ref": ref,
                "customer": {"name": "New customer", "email": f"new-{ref}@example.org",
                             "phone": f"+86 139 {rng.randint(0, 99999999):08d}"},
                "subject": "Complaint", "description": "Unknown customer.",
            }


class OdooRpc:
    def __init__(self, url, db, login, key):
        self.url, self.db, self.key = url.rstrip("/") + "/jsonrpc", db, key
        self.session = requests.Session()
        self.uid = self.call("common", "authenticate", db, login, key, {})
        if not self.uid:
            raise SystemExit(f"authentication failed for {login}")

    def call(self, service, method, *args):
        body = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}}
        reply = self.session.post(self.url, data=json.dumps(body), headers={"Content-Type": "application/json"}, timeout=600)
        reply.raise_for_status()
        data = reply.json()
        if data.get("error"):
            raise RuntimeError(data["error"]["data"]["message"])
        return data["result"]

    def intake(self, batch):
        return self.call("object", "execute_kw", self.db, self.uid, self.key, "complaint.case", "intake", [batch])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True, nargs="+", help="one database per partner count")
    parser.add_argument("--login", required=True)
    parser.add_argument("--key", required=True, nargs="+", help="the intake bot's key, per database")
    parser.add_argument("--dsn", required=True, nargs="+", help="libpq DSN, per database")
    parser.add_argument("--partners", type=int, nargs="+", default=[1000])
    parser.add_argument("--cases", type=int, default=10000, help="cases per database")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the cases are split into")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--pool", type=int, default=1000, help="known customers drawn from the first POOL contacts")
    args = parser.parse_args()

    sides = []
    for db, key, dsn, partners in zip(args.db, args.key, args.dsn, args.partners):
        t0 = time.perf_counter()
        load_partners(dsn, partners)
        load_seconds = time.perf_counter() - t0
        items = list(payloads(f"p{partners}", min(args.pool, partners), args.cases))
        sides.append({"partners": partners, "rpc": OdooRpc(args.url, db, args.login, key), "items": items,
                      "rates": [], "statuses": {}, "partner_load_seconds": round(load_seconds, 1)})
    per_round = -(-args.cases // args.rounds)
    for round_no in range(args.rounds):
        # Interleaved: the same work for each database, in alternating order.
        for side in (sides if round_no % 2 == 0 else sides[::-1]):
            items = side["items"][round_no * per_round:(round_no + 1) * per_round]
            start = time.perf_counter()
            for offset in range(0, len(items), args.batch):
                for result in side["rpc"].intake(items[offset:offset + args.batch]):
                    side["statuses"][result["status"]] = side["statuses"].get(result["status"], 0) + 1
            side["rates"].append(len(items) / (time.perf_counter() - start))
    for side in sides:
        print(json.dumps({
            "partners": side["partners"], "cases": args.cases, "batch": args.batch, "rounds": args.rounds,
            "cases_per_second": round(statistics.median(side["rates"]), 1),
            "rates": [round(rate, 1) for rate in side["rates"]],
            "statuses": side["statuses"], "partner_load_seconds": side["partner_load_seconds"],
        }))


if __name__ == "__main__":
    main()
