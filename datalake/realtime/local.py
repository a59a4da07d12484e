"""Local adapters of the real-time ports: a file log per stream and the embedded PostgreSQL.

- :class:`LocalStream`: an append-only, fsync'd log per stream and shard under
  ``<lake_root>/_streams/<stream>/<shard_id>/log`` with per-consumer checkpoints beside it.
- :class:`PgPortfolioStore`: balances and recorded transactions in PostgreSQL; each transaction
  is claimed by its ``event_id`` and applied with a conditional update in one DB transaction.
- :class:`LocalNotifier`: a notifications table (one row per dedupe key) plus an optional webhook.
- :class:`PgDeadLetters`: a table of poison records with their reason.

The PostgreSQL tables live in the ``datalake_realtime`` schema of the serving database
(``DATABASE_URL``, or the embedded server under the lake root).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

from datalake.alerts import redact_url
from datalake.errors import LakeError
from datalake.realtime.events import TransactionEvent
from datalake.realtime.ports import (
    ApplyResult,
    DeadLetter,
    Notification,
    Portfolio,
    StoredRecord,
    StreamRecord,
)
from datalake.settings import Settings, get_settings

logger = logging.getLogger(__name__)

#: Where the logs live under the lake root (hidden: no crawler or lake listing sees it).
STREAMS_DIR = "_streams"
LOG_NAME = "log"
#: Beside each log: its fsync'd length, which readers do not read past.
DURABLE_NAME = "durable"
#: Sequence numbers are the byte offset of the record in its shard's log, zero-padded so that
#: string order is numeric order (Kinesis' are strings too, and longer than 64 bits).
SEQUENCE_DIGITS = 20
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
#: A torn tail longer than this is not expected (one put is one write); repair reads this much.
_TAIL_CHUNK = 1 << 16


def shard_id(index: int) -> str:
    """``shard-000``, ``shard-001``, ... (the local shard ids)."""
    return f"shard-{index:03d}"


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{kind}: {value!r} is not a valid name (letters, digits, _ . -)")
    return value


def _fsync_dir(path: Path) -> None:
    """Make a file's creation or rename in ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode_line(record: StreamRecord, arrived_us: int) -> bytes:
    """One log line: ``crc32 arrived_us key_b64 data_b64``; the CRC covers what follows it."""
    body = b"%d\t%s\t%s" % (
        arrived_us,
        base64.b64encode(record.partition_key.encode()),
        base64.b64encode(record.data),
    )
    return b"%08x\t%s\n" % (zlib.crc32(body), body)


def _decode_line(line: bytes) -> tuple[int, str, bytes] | None:
    """``(arrived_us, partition_key, data)`` of a whole, intact line; None for a torn or corrupt one."""
    if not line.endswith(b"\n"):
        return None
    crc, sep, body = line[:-1].partition(b"\t")
    try:
        if not sep or int(crc, 16) != zlib.crc32(body):
            return None
        arrived, key, data = body.split(b"\t")
        return (
            int(arrived),
            base64.b64decode(key, validate=True).decode(),
            base64.b64decode(data, validate=True),
        )
    except ValueError:
        return None


class ConsumerBusyError(LakeError):
    """Another process is consuming the stream under the same consumer name."""


class LocalStream:
    """The :class:`~datalake.realtime.ports.Stream` port over append-only files.

    Each ``put`` appends its records to their shards' logs in one write under an exclusive
    file lock and fsyncs before returning, so any number of writer processes can share a
    stream and an acknowledged record survives a crash. Readers take no lock: they return
    only whole lines whose checksum matches, up to the fsync'd length the last writer
    recorded, so a line being written, one not yet on disk, or one torn by a crash is never
    read; the next writer truncates a torn tail before appending (earlier records are never
    touched). Checkpoints are one small file per consumer, replaced atomically.

    Parameters
    ----------
    root
        The folder of the logs; ``<lake_root>/_streams`` of the settings by default.
    settings
        Source of the lake root and ``REALTIME_LOCAL_SHARDS``.
    shards
        Shards per stream (overrides the settings). Keep it fixed once a stream has records.
    """

    def __init__(
        self, root: Path | None = None, *, settings: Settings | None = None, shards: int | None = None
    ) -> None:
        settings = settings or get_settings()
        self.root = Path(root) if root is not None else settings.lake_root / STREAMS_DIR
        self.shard_count = shards or settings.realtime_local_shards

    # -- layout ---------------------------------------------------------------------------
    def shard_dir(self, stream: str, shard: str) -> Path:
        """The folder of one shard's log and checkpoints."""
        return self.root / _check_name("stream", stream) / _check_name("shard_id", shard)

    def shards(self, stream: str) -> list[str]:
        """The stream's shard ids (all of them, whether they hold records yet or not)."""
        _check_name("stream", stream)
        return [shard_id(i) for i in range(self.shard_count)]

    def shard_for(self, partition_key: str) -> str:
        """The shard of a partition key: MD5 of the key modulo the shard count (as Kinesis hashes)."""
        if self.shard_count == 1:
            return shard_id(0)
        digest = int.from_bytes(hashlib.md5(partition_key.encode(), usedforsecurity=False).digest(), "big")
        return shard_id(digest % self.shard_count)

    # -- writing --------------------------------------------------------------------------
    def put(self, stream: str, records: Sequence[StreamRecord]) -> list[str]:
        """Append records durably; returns their sequence numbers, in the order given.

        Raises
        ------
        ValueError
            An empty partition key (it decides the shard, and with it the order).
        OSError
            The log could not be written or synced: none of the records may be assumed stored.
        """
        by_shard: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            if not record.partition_key:
                raise ValueError(f"records[{index}].partition_key: must not be empty")
            by_shard.setdefault(self.shard_for(record.partition_key), []).append(index)
        sequence_numbers = [""] * len(records)
        for shard, indexes in by_shard.items():
            arrived_us = int(dt.datetime.now(dt.UTC).timestamp() * 1_000_000)
            lines = [_encode_line(records[i], arrived_us) for i in indexes]
            offsets = self._append(stream, shard, lines)
            for index, offset in zip(indexes, offsets, strict=True):
                sequence_numbers[index] = f"{offset:0{SEQUENCE_DIGITS}d}"
        return sequence_numbers

    def _append(self, stream: str, shard: str, lines: list[bytes]) -> list[int]:
        folder = self.shard_dir(stream, shard)
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            _fsync_dir(folder.parent)
        path = folder / LOG_NAME
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # One writer at a time per shard (processes included): offsets must not interleave.
            fcntl.flock(fd, fcntl.LOCK_EX)
            end = self._repair_tail(fd)
            offsets = []
            position = end
            for line in lines:
                offsets.append(position)
                position += len(line)
            payload = memoryview(b"".join(lines))
            written = 0
            while written < len(payload):
                written += os.pwrite(fd, payload[written:], end + written)
            os.fsync(fd)
            # Readers stop at the durable end: a record is never read (and checkpointed past)
            # before it is on disk, so a power cut cannot leave a checkpoint beyond the log.
            self._set_durable_end(folder, end + len(payload))
        finally:
            os.close(fd)  # closing releases the lock
        if created:
            _fsync_dir(folder)
        return offsets

    @staticmethod
    def _set_durable_end(folder: Path, end: int) -> None:
        """Record the log's fsync'd length (one fixed-width write, in place; under the writer lock)."""
        fd = os.open(folder / DURABLE_NAME, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, f"{end:0{SEQUENCE_DIGITS}d}\n".encode(), 0)
        finally:
            os.close(fd)

    def durable_end(self, stream: str, shard: str) -> int | None:
        """How many bytes of the shard's log are known to be on disk; None when it has no log yet."""
        try:
            text = (self.shard_dir(stream, shard) / DURABLE_NAME).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return int(text.strip() or b"0")
        except ValueError:
            return 0  # torn (a crash mid-write of the marker): nothing is read until the next put

    @staticmethod
    def _repair_tail(fd: int) -> int:
        """Truncate a torn or corrupt last line (a writer died mid-write); returns the log's end.

        Only bytes that no put acknowledged are removed: an acknowledged line was whole and
        fsync'd before its put returned, and each put only appends after the end found here.
        """
        while True:
            size = os.fstat(fd).st_size
            if size == 0:
                return 0
            start = max(0, size - _TAIL_CHUNK)
            tail = os.pread(fd, size - start, start)
            if not tail.endswith(b"\n"):
                cut = tail.rfind(b"\n")
                keep = start + cut + 1 if cut >= 0 else start
                logger.warning("stream log %d: truncating a torn tail of %d bytes", fd, size - keep)
                os.ftruncate(fd, keep)
                os.fsync(fd)
                continue
            previous = tail.rfind(b"\n", 0, len(tail) - 1)
            if previous < 0 and start > 0:
                return size  # a last line longer than the chunk: whole (it ends with a newline)
            last = tail[previous + 1 :]
            if _decode_line(last) is None:
                logger.warning("stream log %d: truncating a corrupt last line of %d bytes", fd, len(last))
                os.ftruncate(fd, size - len(last))
                os.fsync(fd)
                continue
            return size

    # -- reading --------------------------------------------------------------------------
    def scan(
        self, stream: str, shard: str, after: str | None = None, limit: int | None = None
    ) -> Iterator[StoredRecord]:
        """Records after sequence number ``after`` (from the start when None), in order.

        Stops at the first line that is not whole and intact: a line being written now, or
        the torn tail of a writer that died.
        """
        path = self.shard_dir(stream, shard) / LOG_NAME
        durable = self.durable_end(stream, shard)
        if durable is None:
            return
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below; a generator holds it)
        except FileNotFoundError:
            return
        with handle:
            if after is not None:
                handle.seek(int(after))
                if _decode_line(handle.readline()) is None:
                    raise ValueError(f"sequence number {after} is not a record of {stream}/{shard}")
            count = 0
            while limit is None or count < limit:
                offset = handle.tell()
                line = handle.readline()
                decoded = _decode_line(line) if offset + len(line) <= durable else None
                if decoded is None:
                    return
                arrived_us, key, data = decoded
                yield StoredRecord(
                    stream=stream,
                    shard_id=shard,
                    sequence_number=f"{offset:0{SEQUENCE_DIGITS}d}",
                    partition_key=key,
                    data=data,
                    arrived_at=dt.datetime.fromtimestamp(arrived_us / 1_000_000, dt.UTC),
                )
                count += 1

    def read(self, stream: str, shard_id: str, consumer: str, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` records after the consumer's checkpoint, in sequence order."""
        return list(self.scan(stream, shard_id, self.checkpointed(stream, shard_id, consumer), limit))

    # -- checkpoints ----------------------------------------------------------------------
    def _checkpoint_path(self, stream: str, shard: str, consumer: str) -> Path:
        return self.shard_dir(stream, shard) / "checkpoints" / _check_name("consumer", consumer)

    def checkpointed(self, stream: str, shard: str, consumer: str) -> str | None:
        """The consumer's last checkpointed sequence number; None when it has none."""
        try:
            text = self._checkpoint_path(stream, shard, consumer).read_text().strip()
        except FileNotFoundError:
            return None
        return text or None

    def checkpoint(self, stream: str, shard_id: str, consumer: str, sequence_number: str) -> None:
        """Record, durably and atomically, that ``consumer`` processed up to ``sequence_number``."""
        if not sequence_number.isdigit():
            raise ValueError(f"sequence_number: {sequence_number!r} is not a sequence number")
        path = self._checkpoint_path(stream, shard_id, consumer)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        try:
            with open(tmp, "w") as handle:
                handle.write(sequence_number + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        _fsync_dir(path.parent)

    def latest(self, stream: str, shard: str) -> str | None:
        """The sequence number of the shard's last whole record; None when it has none."""
        durable = self.durable_end(stream, shard)
        try:
            fd = os.open(self.shard_dir(stream, shard) / LOG_NAME, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            end = min(os.fstat(fd).st_size, durable or 0)
            while end > 0:
                start = max(0, end - _TAIL_CHUNK)
                tail = os.pread(fd, end - start, start)
                # The last newline ends the last whole line (a torn tail after it does not count).
                last_newline = tail.rfind(b"\n")
                if last_newline < 0:
                    end = start
                    continue
                stop = start + last_newline + 1
                begin = stop - 1
                while begin > 0:
                    chunk_start = max(0, begin - _TAIL_CHUNK)
                    chunk = os.pread(fd, begin - chunk_start, chunk_start)
                    found = chunk.rfind(b"\n")
                    if found >= 0:
                        begin = chunk_start + found + 1
                        break
                    begin = chunk_start
                line = os.pread(fd, stop - begin, begin)
                if _decode_line(line) is not None:
                    return f"{begin:0{SEQUENCE_DIGITS}d}"
                end = begin  # a corrupt last line: the one before it
            return None
        finally:
            os.close(fd)

    def caught_up(self, stream: str, consumer: str) -> bool:
        """True when the consumer's checkpoint is at the last record of every shard (no scan)."""
        return all(
            self.latest(stream, shard) in (None, self.checkpointed(stream, shard, consumer))
            for shard in self.shards(stream)
        )

    @contextlib.contextmanager
    def exclusive(self, consumer: str) -> Iterator[None]:
        """Hold ``consumer``'s lease while consuming: a second process with the same name is refused.

        Two processors under one name would move one checkpoint back and forth (harmless to the
        portfolios, which apply each id once, but wasted work). The lease is a file lock: the
        kernel releases it when its process dies, so a killed processor never blocks the next.

        Raises
        ------
        ConsumerBusyError
            Another process holds the lease.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f".consumer-{_check_name('consumer', consumer)}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConsumerBusyError(
                f"another process is consuming {self.root} as {consumer!r}",
                hint="stop the other `datalake stream run` first (or wait for it to finish)",
            ) from None
        try:
            yield
        finally:
            os.close(fd)

    def pending(self, stream: str, consumer: str) -> int:
        """Records of every shard after the consumer's checkpoints (its lag, in records)."""
        return sum(
            sum(1 for _ in self.scan(stream, shard, self.checkpointed(stream, shard, consumer)))
            for shard in self.shards(stream)
        )


# -- PostgreSQL ---------------------------------------------------------------------------------

SCHEMA = "datalake_realtime"
BALANCES = f"{SCHEMA}.balances"
TRANSACTIONS = f"{SCHEMA}.transactions"
NOTIFICATIONS = f"{SCHEMA}.notifications"
DEAD_LETTERS = f"{SCHEMA}.dead_letters"

_SETUP = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
    f"""CREATE TABLE IF NOT EXISTS {BALANCES} (
        user_id text NOT NULL,
        currency text NOT NULL,
        balance numeric(20, 2) NOT NULL CHECK (balance >= 0),
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, currency))""",
    f"""CREATE TABLE IF NOT EXISTS {TRANSACTIONS} (
        event_id text PRIMARY KEY,
        user_id text NOT NULL,
        currency text NOT NULL,
        type text NOT NULL CHECK (type IN ('buy', 'sell')),
        amount numeric(16, 2) NOT NULL CHECK (amount > 0),
        client_time timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
        reason text,
        balance_after numeric(20, 2),
        processed_at timestamptz NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS transactions_user ON {TRANSACTIONS} (user_id, processed_at)",
    f"""CREATE TABLE IF NOT EXISTS {NOTIFICATIONS} (
        dedupe_key text PRIMARY KEY,
        message_id text NOT NULL UNIQUE,
        user_id text NOT NULL,
        subject text NOT NULL,
        message text NOT NULL,
        attributes jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        webhook_status integer,
        webhook_error text)""",
    f"CREATE INDEX IF NOT EXISTS notifications_user ON {NOTIFICATIONS} (user_id, created_at)",
    f"""CREATE TABLE IF NOT EXISTS {DEAD_LETTERS} (
        stream text NOT NULL,
        shard_id text NOT NULL,
        sequence_number text NOT NULL,
        partition_key text NOT NULL,
        data bytea NOT NULL,
        arrived_at timestamptz NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream, shard_id, sequence_number))""",
)

T = TypeVar("T")


class _PgTables:
    """One lazily opened connection to the serving database, with the schema set up once.

    Database errors are raised (callers treat them as transient); a broken connection is
    dropped so that the next call opens a new one.
    """

    def __init__(self, settings: Settings | None = None, *, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            from datalake.warehouse.connection import connect, database_url

            url = self._url or database_url(self.settings)
            conn = connect(url, settings=self.settings, autocommit=True, application_name="datalake-realtime")
            with conn.transaction():
                # Processes start together: CREATE ... IF NOT EXISTS can still collide without the lock.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"datalake:{SCHEMA}",))
                exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (DEAD_LETTERS,)).fetchone()
                if not (exists and exists[0]):
                    for statement in _SETUP:
                        conn.execute(statement)
            self._conn = conn
        return self._conn

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self._lock:
            conn = self._connection()
            try:
                return work(conn)
            except psycopg.Error:
                # A lost connection is replaced on the next call; after a deadlock or a timeout the
                # transaction was rolled back and the connection is still good.
                if conn.broken or conn.closed:
                    conn.close()
                    self._conn = None
                raise

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class PgPortfolioStore(_PgTables):
    """The :class:`~datalake.realtime.ports.PortfolioStore` port in PostgreSQL.

    ``datalake_realtime.balances`` holds one row per user and currency (never negative, by a
    CHECK as well as by the conditional update) and ``datalake_realtime.transactions`` one row
    per event id with its status, reason and the balance after it.

    A duplicate's :attr:`ApplyResult.reason` says what the first delivery did
    (``already_applied`` or ``already_rejected``), so a re-processed batch still tells them apart.
    """

    def apply(self, event: TransactionEvent) -> ApplyResult:
        """Apply one transaction exactly once (see :meth:`apply_many`)."""
        return self.apply_many([event])[0]

    def apply_many(self, events: Sequence[TransactionEvent]) -> list[ApplyResult]:
        """Apply transactions in order, all in one DB transaction (one commit for the batch).

        Each event is first claimed by inserting its id into the transactions table (a
        concurrent claim of the same id waits for ours, then finds it: a duplicate). The
        balances the batch touches are then locked (``FOR UPDATE``, in key order, so two
        processors never deadlock on them), the events applied to them in stream order (a sell
        that the balance does not cover is rejected), and written back with a conditional
        update that only matches the balance read under the lock (and a CHECK keeps every
        balance at zero or more). Either everything is committed or nothing is, so the caller
        can retry the whole batch: ids applied by then come back ``duplicate``.

        Raises
        ------
        psycopg.Error
            The database failed (connection lost, a deadlock with another processor): transient.
        RuntimeError
            A balance changed under the lock (never expected): nothing is committed.
        """
        if not events:
            return []
        times: dict[dt.datetime, str] = {}  # a batch shares few distinct times (one per put)

        def iso(moment: dt.datetime) -> str:
            text = times.get(moment)
            if text is None:
                text = times[moment] = moment.isoformat()
            return text

        rows = [
            {
                "ord": index,
                "event_id": e.event_id,
                "user_id": e.user_id,
                "currency": e.currency,
                "type": e.type,
                "amount": str(e.amount),
                "client_time": iso(e.client_time),
                "received_at": iso(e.received_at),
            }
            for index, e in enumerate(events)
        ]
        pairs = sorted({(e.user_id, e.currency) for e in events})
        pairs_json = json.dumps([{"user_id": u, "currency": c} for u, c in pairs])

        def work(conn: psycopg.Connection[Any]) -> list[ApplyResult]:
            with conn.transaction():
                claimed = {
                    row[0]
                    for row in conn.execute(
                        f"INSERT INTO {TRANSACTIONS} (event_id, user_id, currency, type, amount, client_time,"
                        " received_at, status, processed_at)"
                        " SELECT DISTINCT ON (x.event_id) x.event_id, x.user_id, x.currency, x.type,"
                        " x.amount, x.client_time, x.received_at, 'pending', clock_timestamp()"
                        f" FROM jsonb_to_recordset(%s::jsonb) AS x({_EVENT_COLUMNS})"
                        " ORDER BY x.event_id, x.ord ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                        (json.dumps(rows),),
                    ).fetchall()
                }
                earlier = [e.event_id for e in events if e.event_id not in claimed]
                prior: dict[str, str] = {}
                if earlier:
                    prior = dict(
                        conn.execute(
                            f"SELECT event_id, status FROM {TRANSACTIONS} WHERE event_id = ANY(%s)",
                            (earlier,),
                        ).fetchall()
                    )
                # Rows to lock: a user's first transaction in a currency creates it (at zero).
                conn.execute(
                    f"INSERT INTO {BALANCES} (user_id, currency, balance, updated_at)"
                    " SELECT p.user_id, p.currency, 0, clock_timestamp()"
                    " FROM jsonb_to_recordset(%s::jsonb) AS p(user_id text, currency text)"
                    " ORDER BY p.user_id, p.currency ON CONFLICT DO NOTHING",
                    (pairs_json,),
                )
                locked = conn.execute(
                    f"SELECT b.user_id, b.currency, b.balance FROM {BALANCES} b"
                    " JOIN jsonb_to_recordset(%s::jsonb) AS p(user_id text, currency text)"
                    " ON b.user_id = p.user_id AND b.currency = p.currency"
                    " ORDER BY b.user_id, b.currency FOR UPDATE OF b",
                    (pairs_json,),
                ).fetchall()
                before = {(u, c): Decimal(balance) for u, c, balance in locked}
                results, balances, statuses = _apply_in_order(events, claimed, prior, before)
                changed = [
                    {"user_id": u, "currency": c, "old": str(before[(u, c)]), "new": str(balance)}
                    for (u, c), balance in balances.items()
                    if balance != before[(u, c)]
                ]
                if changed:
                    updated = conn.execute(
                        f"UPDATE {BALANCES} b SET balance = v.new, updated_at = clock_timestamp()"
                        " FROM jsonb_to_recordset(%s::jsonb)"
                        " AS v(user_id text, currency text, old numeric, new numeric)"
                        " WHERE b.user_id = v.user_id AND b.currency = v.currency AND b.balance = v.old",
                        (json.dumps(changed),),
                    ).rowcount
                    if updated != len(changed):
                        raise RuntimeError(f"{len(changed) - updated} balance(s) changed under the lock")
                if statuses:
                    conn.execute(
                        f"UPDATE {TRANSACTIONS} t SET status = v.status, reason = v.reason,"
                        " balance_after = v.balance_after"
                        " FROM jsonb_to_recordset(%s::jsonb)"
                        " AS v(event_id text, status text, reason text, balance_after numeric)"
                        " WHERE t.event_id = v.event_id",
                        (json.dumps(statuses),),
                    )
                return results

        return self._run(work)

    def get(self, user_id: str) -> Portfolio | None:
        """One user's balances per currency, or None when the user has none."""
        portfolios = self.portfolios([user_id])
        return portfolios.get(user_id)

    def portfolios(self, user_ids: Sequence[str] | None = None) -> dict[str, Portfolio]:
        """Portfolios by user: of ``user_ids`` (those that have one), or of everyone when None."""

        def work(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            if user_ids is None:
                return conn.execute(
                    f"SELECT user_id, currency, balance, updated_at FROM {BALANCES}"
                ).fetchall()
            return conn.execute(
                f"SELECT user_id, currency, balance, updated_at FROM {BALANCES} WHERE user_id = ANY(%s)",
                (list(user_ids),),
            ).fetchall()

        return _portfolios(self._run(work))

    def holders(self, currency: str) -> list[Portfolio]:
        """Every portfolio with a positive balance in ``currency``, by user id."""
        rows = self._run(
            lambda conn: conn.execute(
                f"SELECT user_id, currency, balance, updated_at FROM {BALANCES} WHERE user_id IN"
                f" (SELECT user_id FROM {BALANCES} WHERE currency = %s AND balance > 0)",
                (currency,),
            ).fetchall()
        )
        found = _portfolios(rows)
        return [found[user] for user in sorted(found)]

    def recorded(self, event_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """``{event_id: (status, reason)}`` of the transactions recorded among ``event_ids``."""
        rows = self._run(
            lambda conn: conn.execute(
                # The ids as one JSON document: adapting a Python list of 100,000 strings costs seconds.
                f"SELECT event_id, status, reason FROM {TRANSACTIONS}"
                " WHERE event_id IN (SELECT jsonb_array_elements_text(%s::jsonb))",
                (json.dumps(list(event_ids)),),
            ).fetchall()
        )
        return {row[0]: (row[1], row[2]) for row in rows}


_EVENT_COLUMNS = (
    "ord integer, event_id text, user_id text, currency text, type text, amount numeric,"
    " client_time timestamptz, received_at timestamptz"
)


def _apply_in_order(
    events: Sequence[TransactionEvent],
    claimed: set[str],
    prior: dict[str, str],
    balances: dict[tuple[str, str], Decimal],
) -> tuple[list[ApplyResult], dict[tuple[str, str], Decimal], list[dict[str, Any]]]:
    """The batch's effect on the locked balances: results, new balances, statuses to record.

    ``claimed`` ids are new (their first occurrence in the batch takes effect); any other
    occurrence is a duplicate whose reason names what the first one did.
    """
    balances = dict(balances)
    results: list[ApplyResult] = []
    statuses: list[dict[str, Any]] = []
    first_status = dict(prior)
    for event in events:
        pair = (event.user_id, event.currency)
        if event.event_id in first_status or event.event_id not in claimed:
            status = first_status.get(event.event_id, "pending")
            results.append(ApplyResult(event.event_id, "duplicate", f"already_{status}", balances[pair]))
            continue
        balance = balances[pair]
        reason = None
        if event.type == "buy":
            balance += event.amount
        elif balance >= event.amount:
            balance -= event.amount
        else:
            reason = "insufficient_balance"
        status = "rejected" if reason else "applied"
        balances[pair] = balance
        first_status[event.event_id] = status
        results.append(ApplyResult(event.event_id, status, reason, balance))
        statuses.append(
            {"event_id": event.event_id, "status": status, "reason": reason, "balance_after": str(balance)}
        )
    return results, balances, statuses


def _portfolios(rows: Sequence[tuple[Any, ...]]) -> dict[str, Portfolio]:
    balances: dict[str, dict[str, Decimal]] = {}
    updated: dict[str, dt.datetime] = {}
    for user_id, currency, balance, updated_at in rows:
        balances.setdefault(user_id, {})[currency] = Decimal(balance)
        updated[user_id] = max(updated.get(user_id, updated_at), updated_at)
    return {user: Portfolio(user, balances[user], updated[user]) for user in balances}


class LocalNotifier(_PgTables):
    """The :class:`~datalake.realtime.ports.Notifier` port: a notifications table and a webhook.

    Each ``dedupe_key`` is stored once (a second publish returns the first message id and
    posts nothing). With ``REALTIME_WEBHOOK_URL`` set, a new notification is also posted there
    as JSON; a webhook that fails or times out is logged and recorded on the row
    (``webhook_status``, ``webhook_error``), never raised: the notification is kept either way.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(settings, url=url)
        self._http = http

    def publish(self, notification: Notification) -> str:
        """Store the notification once per dedupe key (and post it); returns its message id."""
        message_id = f"local-{uuid.uuid4().hex}"

        def work(conn: psycopg.Connection[Any]) -> tuple[str, bool]:
            row = conn.execute(
                f"INSERT INTO {NOTIFICATIONS} (dedupe_key, message_id, user_id, subject, message, attributes)"
                " VALUES (%s, %s, %s, %s, %s, %s::jsonb)"
                " ON CONFLICT (dedupe_key) DO NOTHING RETURNING message_id",
                (
                    notification.dedupe_key,
                    message_id,
                    notification.user_id,
                    notification.subject,
                    notification.message,
                    json.dumps(notification.attributes),
                ),
            ).fetchone()
            if row is not None:
                return str(row[0]), True
            first = conn.execute(
                f"SELECT message_id FROM {NOTIFICATIONS} WHERE dedupe_key = %s", (notification.dedupe_key,)
            ).fetchone()
            return str(first[0]) if first else message_id, False

        stored_id, new = self._run(work)
        webhook = self.settings.realtime_webhook_url
        if new and webhook is not None:
            status, error = self._post(webhook.get_secret_value(), stored_id, notification)
            self._run(
                lambda conn: conn.execute(
                    f"UPDATE {NOTIFICATIONS} SET webhook_status = %s, webhook_error = %s"
                    " WHERE dedupe_key = %s",
                    (status, error, notification.dedupe_key),
                )
            )
        return stored_id

    def _post(self, url: str, message_id: str, notification: Notification) -> tuple[int | None, str | None]:
        """POST the notification; ``(status, error)``, never raises (the URL is never logged whole)."""
        body = {
            "message_id": message_id,
            "user_id": notification.user_id,
            "subject": notification.subject,
            "message": notification.message,
            "dedupe_key": notification.dedupe_key,
            "attributes": notification.attributes,
        }
        timeout = self.settings.realtime_webhook_timeout_s
        try:
            if self._http is not None:
                answer = self._http.post(url, json=body, timeout=timeout)
            else:
                answer = httpx.post(url, json=body, timeout=timeout, follow_redirects=False)
        except (httpx.HTTPError, ValueError) as error:
            reason = f"{type(error).__name__} posting to {redact_url(url)}"
            logger.warning("notification %s: webhook failed: %s", message_id, reason)
            return None, reason
        if not answer.is_success:
            reason = f"HTTP {answer.status_code} from {redact_url(url)}"
            logger.warning("notification %s: webhook failed: %s", message_id, reason)
            return answer.status_code, reason
        return answer.status_code, None

    def sent(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Stored notifications (one user's, or all), oldest first."""
        query = (
            f"SELECT dedupe_key, message_id, user_id, subject, message, attributes, created_at,"
            f" webhook_status, webhook_error FROM {NOTIFICATIONS}"
        )
        params: tuple[Any, ...] = ()
        if user_id is not None:
            query += " WHERE user_id = %s"
            params = (user_id,)

        def work(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
            cursor = conn.execute(query + " ORDER BY created_at, message_id", params)
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return self._run(work)


class PgDeadLetters(_PgTables):
    """The :class:`~datalake.realtime.ports.DeadLetters` port: a table keyed by the record's position.

    Sending the same record again (a re-processed batch) keeps the first letter.
    """

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Keep each letter, with its record's bytes and reason, in one DB transaction."""
        if not letters:
            return

        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {DEAD_LETTERS} (stream, shard_id, sequence_number, partition_key, data,"
                    " arrived_at, reason) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [
                        (
                            letter.record.stream,
                            letter.record.shard_id,
                            letter.record.sequence_number,
                            letter.record.partition_key,
                            letter.record.data,
                            letter.record.arrived_at,
                            letter.reason,
                        )
                        for letter in letters
                    ],
                )

        self._run(work)

    def letters(self, stream: str | None = None) -> list[DeadLetter]:
        """The kept letters (one stream's, or all), in stream and sequence order."""
        query = (
            "SELECT stream, shard_id, sequence_number, partition_key, data, arrived_at, reason"
            f" FROM {DEAD_LETTERS}"
        )
        params: tuple[Any, ...] = ()
        if stream is not None:
            query += " WHERE stream = %s"
            params = (stream,)
        rows = self._run(
            lambda conn: conn.execute(
                query + " ORDER BY stream, shard_id, sequence_number", params
            ).fetchall()
        )
        return [
            DeadLetter(
                StoredRecord(
                    stream=row[0],
                    shard_id=row[1],
                    sequence_number=row[2],
                    partition_key=row[3],
                    data=bytes(row[4]),
                    arrived_at=row[5],
                ),
                reason=row[6],
            )
            for row in rows
        ]
