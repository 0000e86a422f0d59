"""One suite, both stores (SQLite and PostgreSQL): dedupe, claims, leases, outcomes."""

import threading

PAYLOAD = {"channel": "phone", "source_system": "twilio", "external_ref": "CA1"}


def enqueue(outbox, *event_ids, provider="telephony/twilio"):
    return outbox.enqueue(provider, [(e, {**PAYLOAD, "external_ref": e}) for e in event_ids])


def test_enqueue_dedupes_on_provider_and_event_id(outbox):
    first = enqueue(outbox, "e1", "e2")
    assert [created for _, created in first] == [True, True]
    again = enqueue(outbox, "e2", "e3")
    assert again[0] == (first[1][0], False) and again[1][1] is True
    other = enqueue(outbox, "e1", provider="forms/generic")  # same id, other provider
    assert other[0][1] is True
    stats = outbox.stats()
    assert stats["states"]["pending"] == 4
    assert stats["counters"]["accepted"] == 4 and stats["counters"]["duplicate"] == 1
    item = outbox.get(first[0][0])
    assert item.payload["external_ref"] == "e1" and item.state == "pending"
    assert item.attempts == 0


def test_claim_leases_items(outbox):
    enqueue(outbox, "a", "b", "c")
    token1, batch1 = outbox.claim(2, lease=60)
    token2, batch2 = outbox.claim(10, lease=60)
    assert [i.event_id for i in batch1] == ["a", "b"] and [i.event_id for i in batch2] == ["c"]
    assert outbox.claim(10, lease=60)[1] == []
    # an expired lease (a crashed worker) makes the item claimable again
    _, later = outbox.claim(10, lease=60, now=outbox.get(batch1[0].id).created_at + 3600)
    assert [i.event_id for i in later] == ["a", "b", "c"]


def test_finish_outcomes_and_stale_claims(outbox):
    ids = [i for i, _ in enqueue(outbox, "ok", "again", "bad")]
    token, items = outbox.claim(10, lease=60)
    assert outbox.finish("someone-else", delivered=[(ids[0], "x")]) == 0  # not our claim
    assert outbox.finish(token, delivered=[(ids[0], "created CMP1")],
                         retry=[(ids[1], "HTTP 503", 0.0)], dead=[(ids[2], "invalid")]) == 3
    ok, again, bad = (outbox.get(i) for i in ids)
    assert (ok.state, ok.result, ok.attempts) == ("delivered", "created CMP1", 1)
    assert (again.state, again.attempts, again.last_error) == ("pending", 1, "HTTP 503")
    assert (bad.state, bad.last_error) == ("dead", "invalid")
    assert [i.id for i in outbox.claim(10, lease=60)[1]] == [ids[1]]  # due again at once
    counters = outbox.stats()["counters"]
    assert (counters["delivered"], counters["retried"], counters["dead_lettered"]) == (1, 1, 1)


def test_retry_waits_for_next_attempt(outbox):
    (item_id, _), = enqueue(outbox, "later")
    token, _ = outbox.claim(10, lease=60)
    created = outbox.get(item_id).created_at
    outbox.finish(token, retry=[(item_id, "timeout", created + 100)], now=created)
    assert outbox.claim(10, lease=60, now=created + 99)[1] == []
    assert len(outbox.claim(10, lease=60, now=created + 100)[1]) == 1


def test_dead_letters_replay_and_purge(outbox):
    ids = [i for i, _ in enqueue(outbox, "d1", "d2", "d3")]
    token, _ = outbox.claim(10, lease=60)
    outbox.finish(token, dead=[(i, "AccessDenied") for i in ids])
    assert [i.id for i in outbox.list("dead")] == ids
    assert outbox.replay([ids[0]]) == 1
    replayed = outbox.get(ids[0])
    assert (replayed.state, replayed.attempts) == ("pending", 0)
    assert outbox.purge([ids[1]]) == 1 and outbox.get(ids[1]) is None
    assert outbox.purge(older_than=3600) == 0  # d3 is recent
    assert outbox.purge() == 1 and outbox.list("dead") == []
    assert outbox.replay() == 0


def test_stats_oldest_age(outbox):
    assert outbox.stats()["oldest_pending_age"] == 0.0
    (item_id, _), = enqueue(outbox, "old")
    created = outbox.get(item_id).created_at
    assert abs(outbox.stats(now=created + 42)["oldest_pending_age"] - 42) < 0.01


def test_ping(outbox):
    assert outbox.ping() is True


def test_concurrent_claims_never_overlap(outbox_url):
    """Several threads with their own connections claim disjoint sets."""
    from webhook_bridge.outbox import open_outbox

    box = open_outbox(outbox_url)
    enqueue(box, *[f"c{i}" for i in range(200)])
    seen, lock = [], threading.Lock()

    def claimer():
        own = open_outbox(outbox_url)
        while True:
            token, items = own.claim(7, lease=60)
            if not items:
                return
            own.finish(token, delivered=[(i.id, "ok") for i in items])
            with lock:
                seen.extend(i.id for i in items)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 200
    assert box.stats()["states"]["delivered"] == 200
