"""The durable outbox: accepted webhooks wait here until Odoo has them.

``open_outbox(url)``: ``sqlite:///relative.sqlite``, ``sqlite:////absolute.sqlite`` (WAL,
the zero-configuration default) or ``postgresql://user:password@host:port/db`` (several
bridge instances; workers claim with ``FOR UPDATE SKIP LOCKED``).
"""

from .base import DEAD, DELIVERED, PENDING, Outbox, OutboxItem  # noqa: F401


def open_outbox(url, **options):
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteOutbox

        return SQLiteOutbox(url, **options)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresOutbox

        return PostgresOutbox(url, **options)
    raise ValueError(f"unsupported outbox URL {url.split(':', 1)[0]!r}: "
                     "use sqlite:///path or postgresql://...")
