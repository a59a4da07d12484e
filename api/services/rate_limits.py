"""The rate limit shared by every worker and host: one token bucket per client in PostgreSQL.

``API_RATE_LIMIT_BACKEND=postgres`` keeps the buckets in a table of the owner database, in a
schema of the API's own that no other role may use (the /ask reader cannot read it). Taking a
token is one atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the row lock orders
concurrent requests from the same client, on any worker, and the database's clock is the
only clock, so hosts whose clocks differ agree.

When the database cannot be reached the limiter does not open up (no limit at all would
invite the flood that took the database down) nor shut the API (a database hiccup would
refuse every caller): it counts in this process's memory, as the ``memory`` backend does,
logs one warning, and tries the database again after :data:`RETRY_AFTER_S`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from api.security import RateLimiter
from api.services.db import Database
from datalake.errors import WarehouseUnavailableError
from datalake.settings import Settings

logger = logging.getLogger(__name__)

SCHEMA = "datalake_api"
TABLE = f"{SCHEMA}.rate_limit_buckets"
#: Seconds the in-memory fallback serves after the database failed, before it is tried again.
RETRY_AFTER_S = 30.0
#: Longest wait for a pooled connection: the limit must not hold a request up for long.
CONNECTION_WAIT_S = 1.0
#: Idle buckets (full again, so the same as none) are deleted every this many hits per process.
PRUNE_EVERY = 1_000

_SETUP = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " client text PRIMARY KEY,"
    " tokens double precision NOT NULL,"
    " allowed boolean NOT NULL,"
    " updated_at timestamptz NOT NULL)",
    f"REVOKE ALL ON {TABLE} FROM PUBLIC",
)

# Tokens refilled since the last hit, capped at the capacity. now() is the statement's start
# (autocommit); greatest() keeps a transaction that started a moment before the row's last
# writer from taking tokens away.
_REFILLED = "least(%(capacity)s, b.tokens + greatest(extract(epoch FROM now() - b.updated_at), 0) * %(rate)s)"
_TAKE = (
    f"INSERT INTO {TABLE} AS b (client, tokens, allowed, updated_at)"
    " VALUES (%(client)s, %(capacity)s - 1, true, now())"
    " ON CONFLICT (client) DO UPDATE SET"
    f" tokens = {_REFILLED} - CASE WHEN {_REFILLED} >= 1 THEN 1 ELSE 0 END,"
    f" allowed = {_REFILLED} >= 1,"
    " updated_at = greatest(b.updated_at, now())"
    " RETURNING tokens, allowed"
)
_PRUNE = f"DELETE FROM {TABLE} WHERE updated_at < now() - make_interval(secs => %(full_after)s)"


class PostgresRateLimiter:
    """A token bucket per client in PostgreSQL: ``per_minute`` requests a minute, bursts up to that many.

    The same interface as :class:`api.security.RateLimiter` (``capacity``, ``hit``).

    Parameters
    ----------
    database
        The owner's pool (the table is created on first use).
    per_minute
        Sustained requests a minute per client; also the burst size.
    clock
        Seconds, monotonic: when to try the database again (tests pass a fake).
    """

    def __init__(
        self, database: Database, per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.fallback = RateLimiter(per_minute, clock=clock)
        self.database = database
        self.capacity = self.fallback.capacity
        self.rate = self.fallback.rate
        self.clock = clock
        self._table_ready = False
        self._down_since: float | None = None
        self._hits = 0
        self._lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        """Whether hits are counted in this process's memory now (the database was unreachable)."""
        return self._down_since is not None

    def hit(self, client: str) -> float | None:
        """Take a token for ``client``: None when allowed, else the seconds until the next token."""
        if self._down_since is not None and self.clock() - self._down_since < RETRY_AFTER_S:
            return self.fallback.hit(client)
        try:
            wait = self._take(client)
        except (WarehouseUnavailableError, psycopg.Error) as error:
            with self._lock:
                first = self._down_since is None
                self._down_since = self.clock()
            if first:
                logger.warning(
                    "shared rate limit unavailable (%s): counting in memory, per worker, until the "
                    "database answers again",
                    " ".join(str(error).split())[:200],
                )
            return self.fallback.hit(client)
        if self._down_since is not None:
            with self._lock:
                self._down_since = None
            logger.warning("shared rate limit back in PostgreSQL")
        return wait

    def _take(self, client: str) -> float | None:
        # A digest, not the address: the table holds no client IPs.
        bucket = hashlib.sha256(client.encode()).hexdigest()[:32]
        params: dict[str, Any] = {"client": bucket, "capacity": self.capacity, "rate": self.rate}
        with self.database.connection(timeout=CONNECTION_WAIT_S) as conn:
            if not self._table_ready:
                _create_table(conn)
                self._table_ready = True
            row = conn.execute(_TAKE, params).fetchone()
            self._hits += 1
            if self._hits % PRUNE_EVERY == 0:
                conn.execute(_PRUNE, {"full_after": self.capacity / self.rate})
        tokens, allowed = row if row else (0.0, False)
        return None if allowed else (1.0 - float(tokens)) / self.rate


def _create_table(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        # Workers start together: CREATE ... IF NOT EXISTS can still collide without the lock.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"datalake:{TABLE}",))
        for statement in _SETUP:
            conn.execute(statement)


def rate_limiter(settings: Settings, database: Database) -> RateLimiter | PostgresRateLimiter | None:
    """The limiter ``API_RATE_LIMIT_PER_MINUTE`` and ``API_RATE_LIMIT_BACKEND`` ask for; None when off.

    Parameters
    ----------
    settings
        The limit and the backend.
    database
        The owner's pool, for the ``postgres`` backend.
    """
    limit = settings.api_rate_limit_per_minute
    if limit <= 0:
        return None
    if settings.api_rate_limit_backend == "postgres":
        return PostgresRateLimiter(database, limit)
    return RateLimiter(limit)
