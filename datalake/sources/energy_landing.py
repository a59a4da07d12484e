"""Land the energy company's CSV drops in raw, or reject them with a reason record.

A drop lands in the landing bucket (``landing/`` locally). :func:`land_drop` first describes it
without reading it: a name Spark would skip or that means another path (``bad_name``), a link
(``symlink``), a FIFO or device (``not_a_file``) or over ``LANDING_MAX_BYTES`` (``too_large``)
is rejected then and there (``datalake.sources.drop_names`` says which names).
Otherwise it is streamed once through the checks (:func:`~datalake.sources.text_scan.scan_chunks`,
a chunk in memory at a time) and copied unchanged (server-side on S3) to
``raw/energy_company/<entity>/year=/month=/day=/<stem>.<digest>.csv`` keyed by the landing date
and the first 16 hex digits of the drop's SHA-256, or to
``rejected/energy_company/year=/month=/day=/<stem>.<digest>.csv`` beside ``<...>.reason.json``.
The digest keeps two different drops of one name and day apart, and sends the same drop landed
again to the same key, where it is found and not copied again (``already_landed``). A drop
rejected before it was read has only the reason record, keyed by a digest of its landing key and
time; its original stays in landing.

The landing zone is shared: a CSV or XLSX drop whose header names Rossmann's sales or store
columns is the store-sales source's (``datalake.sources.store_sales``) and goes to
``raw/store_sales/<sales|stores>/year=/month=/day=/<stem>.<digest>.<csv|xlsx>`` or
``rejected/store_sales/``; any other XLSX workbook, or a CSV whose header names Our World in
Data's columns, is OWID's (``datalake.sources.owid``) and goes to
``raw/owid/<energy|codebook>/year=/month=/day=/<stem>.<digest>.<csv|xlsx>`` or
``rejected/owid/``, by the same rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from datalake.datasets.energy_company import SOURCE
from datalake.runs import RunReport, as_utc
from datalake.sources import owid, store_sales
from datalake.sources.drop_names import name_problem, printable, recordable, safe_name
from datalake.sources.energy_company import Rejected, read_scan
from datalake.sources.header_files import XLSX_CONTENT_TYPE
from datalake.sources.text_scan import TextScan, read_chunks, scan_chunks
from datalake.sources.xlsx import is_workbook, looks_like_xlsx
from datalake.storage.base import STAGING_PREFIX, ObjectInfo, ObjectStore
from datalake.storage.paths import date_partition_key, join_key

RAW_PREFIX = join_key("raw", SOURCE)
REJECTED_PREFIX = join_key("rejected", SOURCE)


@dataclass(frozen=True)
class LandingOutcome:
    """Where one drop went."""

    source_key: str
    landed_at: dt.datetime
    key: str
    entity: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    reason: str | None = None
    detail: str | None = None
    #: True when the same drop had already landed under ``key`` (it was not copied again).
    already_landed: bool = False

    @property
    def accepted(self) -> bool:
        return self.reason is None


def _copy_once(
    landing: ObjectStore,
    lake: ObjectStore,
    source_key: str,
    key: str,
    content_type: str | None,
    info: ObjectInfo,
) -> bool:
    """Copy a drop to ``key`` unless it is there already; True when copied.

    The key names the drop's digest, so an object of the same size under it is this drop.
    Copying it again would only give it a new time, which the incremental transforms read as
    a new drop, and on S3 a new event and Glue run. The drop's folder is listed (sizes come with
    a listing) rather than its key described: a HEAD would need read access to raw.
    """
    landed = {found.key: found.size for found in lake.list_objects(key.rsplit("/", 1)[0])}
    if landed.get(key) == info.size:
        return False
    lake.copy_from(landing, source_key, key, content_type, info.version)
    return True


#: Hex digits of the SHA-256 in a key: 64 bits, no collision among a day's drops.
DIGEST_CHARS = 16


def keyed_name(name: str, digest: str) -> str:
    """``clientes.csv`` -> ``clientes.<digest>.csv``: the drop's name, told apart by its digest.

    Every drop is kept as ``.csv`` (the crawler and the readers go by the extension).
    """
    stem = name[:-4] if name.lower().endswith(".csv") else name
    return f"{stem}.{digest[:DIGEST_CHARS]}.csv"


def unread_digest(source_key: str, landed_at: dt.datetime) -> str:
    """The digest of a drop rejected unread: its landing key and time (one per upload, like S3 events)."""
    identity = f"{source_key}\n{as_utc(landed_at).isoformat()}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(identity).hexdigest()


def raw_key(entity: str, landed_at: dt.datetime, name: str, digest: str) -> str:
    """``raw/energy_company/<entity>/year=/month=/day=/<stem>.<digest>.csv`` for the UTC landing date."""
    return date_partition_key(
        join_key(RAW_PREFIX, entity), as_utc(landed_at).date(), keyed_name(name, digest)
    )


def rejected_key(landed_at: dt.datetime, name: str, digest: str) -> str:
    """``rejected/energy_company/year=/month=/day=/<stem>.<digest>.csv`` for the UTC landing date."""
    return date_partition_key(REJECTED_PREFIX, as_utc(landed_at).date(), keyed_name(name, digest))


def _reject(
    landing: ObjectStore,
    lake: ObjectStore,
    source_key: str,
    landed_at: dt.datetime,
    key: str,
    rejection: Rejected,
    size: int | None,
    version: str | None,
    *,
    copy: bool,
) -> LandingOutcome:
    """Write the reason record (and, when ``copy``, the drop's bytes) under ``key``.

    The outcome's key is the copy's, or the record's when there is no copy.
    """
    if copy:
        lake.copy_from(landing, source_key, key, version=version)
    record = f"{key}.reason.json"
    lake.put_json(
        record,
        {
            "reason": rejection.reason,
            "detail": rejection.detail,
            "source_key": recordable(source_key),
            "landed_at": as_utc(landed_at).isoformat(),
            "bytes": size,
            # Where the drop's bytes are: the copy beside this record, or only the landing original.
            "copy": key if copy else None,
        },
    )
    return LandingOutcome(
        source_key, landed_at, key if copy else record, reason=rejection.reason, detail=rejection.detail
    )


def _refuse_unread(
    landing: ObjectStore, source_key: str, max_bytes: int
) -> tuple[ObjectInfo | None, Rejected | None]:
    """(the object's description, why it is refused) from its key and description alone, unread."""
    problem = name_problem(source_key)
    if problem:
        return None, Rejected("bad_name", problem)
    info = landing.describe(source_key)
    if info.kind == "link":
        return info, Rejected(
            "symlink",
            "a symbolic link, or a path through one: links are not followed (they can point "
            "anywhere on the machine); drop the file itself",
        )
    if info.kind == "other":
        return info, Rejected("not_a_file", "not a regular file (a FIFO, a socket or a device)")
    if info.size > max_bytes:
        return info, Rejected(
            "too_large",
            f"the file has {info.size:,} bytes; the limit is {max_bytes:,} (LANDING_MAX_BYTES): "
            "split the extract into smaller files (each with its header)",
        )
    return info, None


def land_drop(
    landing: ObjectStore,
    lake: ObjectStore,
    source_key: str,
    landed_at: dt.datetime,
    *,
    max_line_bytes: int,
    max_bytes: int,
) -> LandingOutcome:
    """Copy one landing object unchanged to raw, or reject it with ``<file>.reason.json``.

    The destination key depends only on the landing date, the file name and the drop's digest,
    so landing the same drop again overwrites the same object, and another drop of the same name
    and day gets its own. The landing object is left in place.

    Parameters
    ----------
    landing, lake
        The landing bucket's store and the lake's.
    source_key
        Key of the drop in the landing bucket (URL-decoded).
    landed_at
        When the drop landed (the S3 event time, or the file's modification time locally).
    max_line_bytes
        The longest line accepted (``CSV_MAX_LINE_BYTES``).
    max_bytes
        The largest drop read (``LANDING_MAX_BYTES``); a larger one is rejected unread.

    Returns
    -------
    LandingOutcome
        The raw or rejected key, with the entity and reading, or the reason and its detail.
    """
    name = safe_name(source_key.rsplit("/", 1)[-1])
    info, refusal = _refuse_unread(landing, source_key, max_bytes)
    if refusal is not None:
        key = rejected_key(landed_at, name, unread_digest(source_key, landed_at))
        size = info.size if info is not None and info.kind == "file" else None
        return _reject(landing, lake, source_key, landed_at, key, refusal, size, None, copy=False)
    assert info is not None  # described whenever nothing refused it
    with landing.open_read(source_key, info.version) as stream:
        scan = scan_chunks(read_chunks(stream), max_line_bytes)
    if looks_like_xlsx(scan.sample):
        # A workbook is a zip, read from its end: the whole drop (at most LANDING_MAX_BYTES).
        with landing.open_read(source_key, info.version) as stream:
            data = stream.read()
        if is_workbook(data):
            # Read by header: Rossmann's workbooks are the store-sales source's, the others OWID's.
            headed = store_sales if store_sales.is_store_sales_workbook(data) else owid
            return _land_headed(headed, landing, lake, source_key, landed_at, name, scan, info, data)
    elif store_sales.is_store_sales_csv(scan):
        return _land_headed(store_sales, landing, lake, source_key, landed_at, name, scan, info, None)
    elif owid.is_owid_csv(scan):
        return _land_headed(owid, landing, lake, source_key, landed_at, name, scan, info, None)
    try:
        reading = read_scan(scan)
    except Rejected as rejection:
        key = rejected_key(landed_at, name, scan.sha256)
        return _reject(
            landing, lake, source_key, landed_at, key, rejection, scan.size, info.version, copy=True
        )
    key = raw_key(reading.entity, landed_at, name, scan.sha256)
    copied = _copy_once(landing, lake, source_key, key, "text/csv", info)
    return LandingOutcome(
        source_key,
        landed_at,
        key,
        reading.entity,
        reading.encoding,
        reading.delimiter,
        already_landed=not copied,
    )


def _land_headed(
    module: ModuleType,
    landing: ObjectStore,
    lake: ObjectStore,
    source_key: str,
    landed_at: dt.datetime,
    name: str,
    scan: TextScan,
    info: ObjectInfo,
    workbook: bytes | None,
) -> LandingOutcome:
    """A drop of a source read by header (``module``: :mod:`datalake.sources.owid` or
    :mod:`datalake.sources.store_sales`), its workbook's bytes or None for a CSV ->
    ``raw/<source>/<kind>/...`` unchanged, or ``rejected/<source>/`` with its reason."""
    form = "csv" if workbook is None else "xlsx"
    try:
        kind = module.check_csv_drop(scan) if workbook is None else module.check_xlsx_drop(workbook)
    except Rejected as rejection:
        key = module.rejected_key(landed_at, name, scan.sha256, form)
        return _reject(
            landing, lake, source_key, landed_at, key, rejection, scan.size, info.version, copy=True
        )
    key = module.raw_key(kind, landed_at, name, scan.sha256, form)
    content_type = "text/csv" if form == "csv" else XLSX_CONTENT_TYPE
    copied = _copy_once(landing, lake, source_key, key, content_type, info)
    return LandingOutcome(source_key, landed_at, key, f"{module.SOURCE}_{kind}", already_landed=not copied)


def landing_keys(landing: ObjectStore) -> list[str]:
    """Every key in the landing bucket, hidden names and links included (each must be landed or
    refused), but not the store's own staging area."""
    return [k for k in landing.list_keys(include_hidden=True) if k.split("/", 1)[0] != STAGING_PREFIX]


def land_drops(
    landing: ObjectStore,
    lake: ObjectStore,
    drops: Iterable[tuple[str, dt.datetime]],
    report: RunReport,
    progress: Callable[[str], None] | None = None,
    *,
    max_line_bytes: int,
    max_bytes: int,
) -> list[LandingOutcome]:
    """Land several drops and fill ``report``: in = drops, out = accepted, quarantined = rejected."""
    outcomes = []
    for source_key, landed_at in drops:
        outcome = land_drop(
            landing, lake, source_key, landed_at, max_line_bytes=max_line_bytes, max_bytes=max_bytes
        )
        outcomes.append(outcome)
        report.rows_in += 1
        report.keys_written.append(outcome.key)
        if outcome.accepted:
            report.rows_out += 1
            accepted = report.details.setdefault("accepted", {})
            accepted[outcome.entity] = accepted.get(outcome.entity, 0) + 1
            if outcome.already_landed:
                report.details["already_landed"] = report.details.get("already_landed", 0) + 1
        else:
            report.rows_quarantined += 1
            rejected = report.details.setdefault("rejected", {})
            rejected[outcome.reason] = rejected.get(outcome.reason, 0) + 1
            report.details.setdefault("rejections", []).append(
                {"source_key": recordable(source_key), "reason": outcome.reason, "detail": outcome.detail}
            )
        if progress:
            where = (
                f"{outcome.entity}{' (already landed)' if outcome.already_landed else ''}"
                if outcome.accepted
                else f"rejected ({outcome.reason}: {outcome.detail})"
            )
            progress(f"{printable(source_key)} -> {where}")
    return outcomes
