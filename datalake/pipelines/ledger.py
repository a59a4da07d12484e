"""Which raw partitions a job has processed: the ledger behind incremental runs.

Per job and raw prefix, one small JSON document in the lake's own object store
(``_ledger/<job>/<raw prefix>.json``; hidden, so no reader or crawler lists it) records, per
raw partition (the folder of a raw dataset's files, ``demand/year=2024/month=10/day=27``), a
fingerprint of its files: key, size, the store's version (S3's ETag) and modification time,
all from a listing, never from the bytes. A run lists the raw prefix, compares the listing
with the ledger (:func:`plan_run`), and its work is the partitions that are new, changed or
gone. The ledger is saved only after the run has published its tables
(:meth:`Ledger.commit`), so a run that fails or is killed leaves it as it was and the next
run redoes the same work. ``full=True`` ignores the ledger, processes everything and writes
the ledger again from the listing; a job with no ledger yet runs full.

Why one store-backed ledger on both runtimes rather than Glue job bookmarks on AWS: bookmarks
only track sources read through Glue DynamicFrames (``glueContext.create_dynamic_frame``),
and these jobs read raw files with Spark's own readers, so a bookmark would see nothing.
The S3 trigger starts a run per raw prefix, not per object, so the event does not say which
partitions changed either (and several events can fold into one run). A listing of the
prefix is cheap on S3 (a thousand keys per request, with sizes and ETags) and is the same
code locally, so the local and AWS runs decide their work the same way and the tests cover
the code AWS runs.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key, partition_date, raw_partition_name

LEDGER_PREFIX = "_ledger"
#: The ledger's format; a ledger of another version is ignored (the run is full).
LEDGER_VERSION = 1
#: At most this many partition names are listed in a run report (the counts are always there).
REPORTED_NAMES = 200
Mode = Literal["incremental", "full"]


@dataclass(frozen=True)
class RawPartition:
    """One raw partition as listed now: its files and their fingerprint."""

    #: The folder relative to the raw prefix (``""`` for files right under it).
    name: str
    #: The ``year=/month=/day=`` date of the folder, None when it has none.
    day: dt.date | None
    fingerprint: str
    keys: tuple[str, ...]


def list_raw_partitions(store: ObjectStore, raw_prefix: str, pattern: str = "*") -> dict[str, RawPartition]:
    """The raw partitions under ``raw_prefix``, by name, from one listing (no object is read).

    Parameters
    ----------
    store
        The lake's object store.
    raw_prefix
        ``raw/ree_sample``, ``raw/energy_company``, ...
    pattern
        Only files whose name matches (``*.json``): the ones the job reads.

    Returns
    -------
    dict
        ``{name: RawPartition}``; a partition's fingerprint changes when any file is added,
        removed, rewritten (size, version or time) or renamed.
    """
    prefix = join_key(raw_prefix)
    grouped: dict[str, list[str]] = {}
    for info in store.list_objects(prefix):
        folder = raw_partition_name(info.key, prefix)
        name = info.key[len(prefix) :].strip("/").rpartition("/")[2]
        if not fnmatch.fnmatch(name, pattern):
            continue
        stamp = f"{info.key}\t{info.size}\t{info.version or ''}\t{info.last_modified.isoformat()}"
        grouped.setdefault(folder, []).append(stamp)
    partitions = {}
    for folder, stamps in grouped.items():
        stamps.sort()
        digest = hashlib.sha256("\n".join(stamps).encode()).hexdigest()
        keys = tuple(stamp.split("\t", 1)[0] for stamp in stamps)
        partitions[folder] = RawPartition(folder, partition_date(folder), digest, keys)
    return dict(sorted(partitions.items()))


@dataclass
class Ledger:
    """The partitions a job last processed from one raw prefix: ``{name: {"fingerprint": ..., ...}}``.

    An entry may carry more than the fingerprint (the energy company job keeps where its parsed
    rows are); :meth:`commit` keeps what a caller passes.
    """

    key: str
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: False when there was no ledger (or one of another version): the run is full.
    found: bool = False

    @classmethod
    def load(cls, store: ObjectStore, job: str, raw_prefix: str) -> Ledger:
        """The ledger of ``job`` over ``raw_prefix``; an empty one (``found`` False) when there is none."""
        key = ledger_key(job, raw_prefix)
        if not store.exists(key):
            return cls(key)
        doc = store.get_json(key)
        if doc.get("version") != LEDGER_VERSION:
            return cls(key)
        return cls(key, dict(doc.get("partitions", {})), True)

    def commit(
        self, store: ObjectStore, plan: RunPlan, extra: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """Record what ``plan`` processed, after the run published it.

        The partitions read as changed get their current fingerprint (and ``extra[name]``),
        the gone ones are dropped; in a full run the ledger becomes the listing. Partitions a
        run was told to leave (``only_days``) keep their old entries.
        """
        extra = extra or {}
        entries = {} if plan.mode == "full" else dict(self.entries)
        for name in plan.deleted:
            entries.pop(name, None)
        for name in plan.changed:
            entries[name] = {"fingerprint": plan.partitions[name].fingerprint, **extra.get(name, {})}
        self.entries = dict(sorted(entries.items()))
        doc = {"version": LEDGER_VERSION, "partitions": self.entries}
        store.put_json(self.key, doc)
        self.found = True


def ledger_key(job: str, raw_prefix: str) -> str:
    """``_ledger/<job>/<raw prefix>.json``."""
    return join_key(LEDGER_PREFIX, job, f"{join_key(raw_prefix)}.json")


@dataclass(frozen=True)
class RunPlan:
    """What a run does: the raw partitions it (re)processes and those it leaves as they were."""

    mode: Mode
    #: Why the run is full (``--full``, no ledger yet), or ``changed since the last run``.
    reason: str
    #: Every raw partition listed now, by name.
    partitions: dict[str, RawPartition]
    #: Listed partitions that are new or whose files changed (all of them in a full run).
    changed: frozenset[str]
    #: Partitions the ledger knew that are gone now.
    deleted: frozenset[str]
    #: Listed partitions the ledger already holds as they are (or that ``only_days`` left out).
    skipped: frozenset[str]

    @property
    def affected_days(self) -> set[dt.date]:
        """The dates of the changed and deleted partitions (``year=/month=/day=`` folders)."""
        names = set(self.changed) | set(self.deleted)
        return {day for day in map(partition_date, names) if day is not None}

    def details(self, read: Iterable[str] = ()) -> dict[str, Any]:
        """What the run report says about the plan (names listed up to ``REPORTED_NAMES``)."""
        read = sorted(read)
        return {
            "mode": self.mode,
            "mode_reason": self.reason,
            "raw_partitions_changed": _names(self.changed),
            "raw_partitions_deleted": _names(self.deleted),
            "raw_partitions_read": _names(read),
            "raw_partitions_changed_count": len(self.changed),
            "raw_partitions_deleted_count": len(self.deleted),
            "raw_partitions_read_count": len(read),
            "raw_partitions_skipped": len(self.skipped),
        }


def _names(names: Iterable[str]) -> list[str]:
    return sorted(names)[:REPORTED_NAMES]


def plan_run(
    ledger: Ledger,
    partitions: dict[str, RawPartition],
    *,
    full: bool = False,
    only_days: set[dt.date] | None = None,
) -> RunPlan:
    """Compare the listing with the ledger.

    Parameters
    ----------
    ledger
        What the last successful runs processed.
    partitions
        The listing (:func:`list_raw_partitions`).
    full
        Process every partition, whatever the ledger says.
    only_days
        Process the partitions of these days (changed or not) and leave every other one as
        the ledger has it, even when it changed (the energy company's ``day`` mode).

    Returns
    -------
    RunPlan
        Full when asked or when there is no ledger yet; incremental otherwise.
    """
    listed = set(partitions)
    if full or not ledger.found:
        reason = "--full" if full else "no ledger yet (first run)"
        gone = frozenset(set(ledger.entries) - listed)
        return RunPlan("full", reason, partitions, frozenset(listed), gone, frozenset())
    if only_days is not None:
        wanted = {name for name in listed | set(ledger.entries) if partition_date(name) in only_days}
        changed = wanted & listed
        deleted = wanted - listed
        reason = f"the days asked for: {', '.join(sorted(d.isoformat() for d in only_days))}"
    else:
        known = {name: entry.get("fingerprint") for name, entry in ledger.entries.items()}
        changed = {name for name in listed if known.get(name) != partitions[name].fingerprint}
        deleted = set(ledger.entries) - listed
        reason = "changed since the last successful run"
    return RunPlan(
        "incremental", reason, partitions, frozenset(changed), frozenset(deleted), frozenset(listed - changed)
    )
