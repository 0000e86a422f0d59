"""PostgreSQL outbox for several bridge instances: workers claim rows with
``FOR UPDATE SKIP LOCKED``; serialization failures and deadlocks are retried."""

try:
    import psycopg2
    import psycopg2.errors
except ImportError:  # pragma: no cover - reported when used
    psycopg2 = None

from .base import Outbox


class PostgresOutbox(Outbox):
    placeholder = "%s"
    lock_suffix = " FOR UPDATE SKIP LOCKED"
    id_column = "BIGSERIAL PRIMARY KEY"

    def __init__(self, url, **options):
        if psycopg2 is None:
            raise RuntimeError("the PostgreSQL outbox needs psycopg2: "
                               "pip install 'complaint-handling[postgres]'")
        self.retryable = (psycopg2.errors.SerializationFailure,
                          psycopg2.errors.DeadlockDetected, psycopg2.OperationalError,
                          psycopg2.InterfaceError)
        options.pop("synchronous", None)
        super().__init__(url, **options)

    def connect(self):
        return psycopg2.connect(self.url, connect_timeout=10,
                                application_name="webhook-bridge")

    def begin(self, conn, ddl=False):
        if ddl:  # several instances may start at once: create the schema one at a time
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(7417001)")

    def _on_retry(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            self._reset()
