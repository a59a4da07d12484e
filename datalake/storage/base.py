"""The object store port: a few primitives per adapter, and the formats built on them once."""

from __future__ import annotations

import datetime as dt
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datalake.errors import ObjectNotFoundError
from datalake.storage.paths import join_key, parse_partition

Frame = pd.DataFrame | pa.Table
#: Where adapters stage writes before publishing them (hidden: no reader or crawler lists it).
STAGING_PREFIX = "_staging"
#: ``file``: bytes to read; ``link``: a symbolic link (local folders only), never followed;
#: ``other``: a FIFO, socket or device that sits where a file could.
ObjectKind = Literal["file", "link", "other"]


@dataclass(frozen=True)
class ObjectInfo:
    """What a store says about one object without reading it."""

    key: str
    size: int
    last_modified: dt.datetime
    kind: ObjectKind = "file"
    #: S3's ETag: pass it back to read or copy exactly the bytes that were described.
    version: str | None = None


class ObjectStore(ABC):
    """A bucket-like key/value store of bytes.

    Adapters implement the primitives; the format helpers (JSON, CSV, Parquet) and the
    partition helpers are shared so both runtimes read and write identical bytes.
    """

    #: ``file`` or ``s3``; lets the query layer decide how to reach the bytes.
    scheme: str

    # -- primitives -------------------------------------------------------------------
    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        """Write one object atomically (readers see the old bytes or the new); returns its URI."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Read one object; raises ObjectNotFoundError when absent."""

    @abstractmethod
    def describe(self, key: str) -> ObjectInfo:
        """Size, time and kind of one object, without reading it (local: a link is described,
        not followed); raises ObjectNotFoundError when absent."""

    @abstractmethod
    def open_read(self, key: str, version: str | None = None) -> BinaryIO:
        """A binary stream of one object, to read in chunks and close (``with`` works).

        Never follows a local link. ``version`` (from :meth:`describe`) makes the read fail
        when the object changed since; raises ObjectNotFoundError when absent.
        """

    @abstractmethod
    def put_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        """Write one object atomically from a binary stream, holding a chunk at a time; returns its URI."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True when the object exists."""

    @abstractmethod
    def last_modified(self, key: str) -> dt.datetime:
        """When the object was last written, UTC; raises ObjectNotFoundError when absent."""

    @abstractmethod
    def list_keys(self, prefix: str = "", *, include_hidden: bool = False) -> list[str]:
        """Keys under ``prefix`` (a folder), sorted. Hidden keys (``_x``/``.x`` segments
        below the prefix) are left out unless asked for."""

    @abstractmethod
    def delete(self, keys: Iterable[str]) -> int:
        """Delete objects; missing ones are ignored. Returns how many were asked for."""

    @abstractmethod
    def replace_prefix(self, prefix: str, objects: Mapping[str, bytes]) -> list[str]:
        """Replace everything under ``prefix`` with ``objects`` (names relative to it).

        A reader sees the whole old set or the whole new set, and a writer that dies
        part-way leaves the old set as it was. Returns the keys written.
        """

    @abstractmethod
    def uri(self, key: str = "") -> str:
        """A URI for a key or prefix that other engines understand (``file://``, ``s3://``)."""

    def key_of(self, uri: str) -> str:
        """The key of a URI this store made with :meth:`uri` (a catalog location, say).

        Raises
        ------
        ValueError
            The URI points outside this store.
        """
        base = self.uri("").rstrip("/")
        if uri.rstrip("/") == base:
            return ""
        if not uri.startswith(base + "/"):
            raise ValueError(f"location {uri!r} is not in this store ({base}/)")
        return join_key(uri[len(base) + 1 :])

    # -- derived operations -----------------------------------------------------------
    def copy_from(
        self,
        source: ObjectStore,
        source_key: str,
        key: str,
        content_type: str | None = None,
        version: str | None = None,
    ) -> str:
        """Copy one object of ``source`` (this store or another) to ``key``, streamed; returns its URI.

        ``version`` (from ``source.describe``) makes the copy fail when the object changed since.
        Adapters copy server-side where they can.
        """
        with source.open_read(source_key, version) as stream:
            return self.put_stream(key, stream, content_type)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a prefix, hidden ones included."""
        return self.delete(self.list_keys(prefix, include_hidden=True))

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """What :meth:`list_keys` lists, each with its size, time and version, without reading it.

        Adapters whose listing already carries these (S3) override this to save a call per key.
        """
        return [self.describe(key) for key in self.list_keys(prefix)]

    def list_partitions(self, prefix: str) -> list[dict[str, str]]:
        """Distinct Hive partition values under a table prefix, sorted by path."""
        seen: dict[str, dict[str, str]] = {}
        for key in self.list_keys(prefix):
            folder = key.rsplit("/", 1)[0]
            values = parse_partition(folder[len(prefix) :])
            if values:
                seen.setdefault(folder, values)
        return [seen[folder] for folder in sorted(seen)]

    # -- JSON -------------------------------------------------------------------------
    def put_json(self, key: str, obj: Any) -> str:
        """Write a JSON document (UTF-8, keys in their order, non-ASCII kept)."""
        return self.put_bytes(key, _json_bytes(obj), "application/json")

    def get_json(self, key: str) -> Any:
        """Read a JSON document."""
        return json.loads(self.get_bytes(key))

    def put_json_if_changed(self, key: str, obj: Any, *, ignore: Iterable[str] = ()) -> bool:
        """Write a JSON document unless ``key`` already holds the same one; True when written.

        Writing the same document again would still give the object a new time (and on S3 a new
        version and an event): the incremental transforms and the S3 trigger would take it for
        new data and do the work again.

        Parameters
        ----------
        key
            Where the document goes.
        obj
            The document (serialised as :meth:`put_json` does).
        ignore
            Dotted paths of fields that do not count in the comparison (``datalake.fetched_at``:
            when the same data was fetched again). The stored document keeps its own values.

        Returns
        -------
        bool
            False when the stored document equals ``obj`` (but for ``ignore``) and nothing was
            written.
        """
        body = _json_bytes(obj)
        if self.exists(key):
            stored = self.get_bytes(key)
            if stored == body:
                return False
            ignored = tuple(ignore)
            if ignored:
                try:
                    same = _without(json.loads(stored), ignored) == _without(json.loads(body), ignored)
                except ValueError:  # an unreadable stored object is replaced
                    same = False
                if same:
                    return False
        self.put_bytes(key, body, "application/json")
        return True

    # -- CSV --------------------------------------------------------------------------
    def write_csv(self, key: str, frame: Frame) -> str:
        """Write a frame as UTF-8 CSV with a header row."""
        return self.put_bytes(key, _csv_bytes(frame), "text/csv")

    def read_csv(self, key: str, **pandas_kwargs: Any) -> pd.DataFrame:
        """Read one CSV object into pandas."""
        return pd.read_csv(io.BytesIO(self.get_bytes(key)), **pandas_kwargs)

    # -- Parquet ----------------------------------------------------------------------
    def write_parquet(self, key: str, frame: Frame) -> str:
        """Write a frame as one Parquet object (snappy)."""
        return self.put_bytes(key, parquet_bytes(frame), "application/vnd.apache.parquet")

    def read_parquet(self, key_or_prefix: str) -> pd.DataFrame:
        """Read one Parquet object, or every visible one under a prefix.

        Partition values from ``name=value`` folders below the prefix become string
        columns when the files do not carry them.
        """
        if key_or_prefix.endswith(".parquet") and self.exists(key_or_prefix):
            return pq.read_table(io.BytesIO(self.get_bytes(key_or_prefix))).to_pandas()
        prefix = key_or_prefix.rstrip("/")
        keys = [k for k in self.list_keys(prefix) if k.endswith(".parquet")]
        if not keys:
            raise ObjectNotFoundError(f"no Parquet objects under {self.uri(prefix)}")
        tables = []
        for key in keys:
            table = pq.read_table(io.BytesIO(self.get_bytes(key)))
            for name, value in parse_partition(key[len(prefix) :]).items():
                if name not in table.column_names:
                    table = table.append_column(name, pa.array([value] * table.num_rows))
            tables.append(table)
        return pa.concat_tables(tables, promote_options="default").to_pandas()

    def replace_partition(self, table_prefix: str, partition: str, files: Mapping[str, Frame]) -> list[str]:
        """Atomically replace one partition of a table with Parquet files.

        ``partition`` is a Hive path such as ``year=2024/month=01/day=05``; ``files``
        maps file names to frames.
        """
        payload = {name: parquet_bytes(frame) for name, frame in files.items()}
        return self.replace_prefix(join_key(table_prefix, partition), payload)


def parquet_bytes(frame: Frame) -> bytes:
    """Serialise a pandas or Arrow frame to Parquet bytes."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    # Microsecond timestamps: Spark 3.5, Athena and DuckDB all read them; nanoseconds they do not.
    pq.write_table(table, sink, compression="snappy", coerce_timestamps="us")
    return sink.getvalue()


def _csv_bytes(frame: Frame) -> bytes:
    df = frame.to_pandas() if isinstance(frame, pa.Table) else frame
    return df.to_csv(index=False).encode("utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_bytes(obj: Any) -> bytes:
    """A JSON document's bytes as the stores write it (UTF-8, keys in their order, non-ASCII kept)."""
    return json.dumps(obj, ensure_ascii=False, indent=None, default=_json_default).encode("utf-8")


def _without(doc: Any, paths: tuple[str, ...]) -> Any:
    """``doc`` without the fields at the dotted ``paths`` (a copy; missing paths are ignored)."""
    if not isinstance(doc, dict):
        return doc
    heads: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        heads.setdefault(head, []).append(rest)
    out = {}
    for name, value in doc.items():
        rests = heads.get(name)
        if rests is None:
            out[name] = value
        elif "" not in rests:
            out[name] = _without(value, tuple(rests))
    return out
