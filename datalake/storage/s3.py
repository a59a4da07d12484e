"""S3 adapter (boto3); works with any S3-compatible endpoint given by ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import ObjectNotFoundError
from datalake.settings import Settings
from datalake.storage.base import STAGING_PREFIX, ObjectInfo, ObjectStore
from datalake.storage.paths import is_hidden, join_key

_DELETE_BATCH = 1000  # DeleteObjects accepts at most this many keys
# Streamed uploads and copies: parts of 16 MiB, four at a time (~64 MiB held, a Lambda can afford it).
_TRANSFER = TransferConfig(multipart_chunksize=16 << 20, max_concurrency=4)


class S3ObjectStore(ObjectStore):
    """Objects in one bucket, optionally below a key prefix."""

    scheme = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        boto3_session: boto3.session.Session | None = None,
        settings: Settings | None = None,
        client: Any | None = None,
    ) -> None:
        self.bucket = bucket
        self.client = client or aws.client("s3", boto3_session, settings, s3={"addressing_style": "path"})

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        # A single PUT is atomic in S3: readers get the old object or the new one.
        self.client.put_object(Bucket=self.bucket, Key=join_key(key), Body=data, **extra)
        return self.uri(key)

    def put_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        # A multipart upload becomes visible only when completed: readers see old or new bytes.
        self.client.upload_fileobj(stream, self.bucket, join_key(key), ExtraArgs=extra, Config=_TRANSFER)
        return self.uri(key)

    def copy_from(
        self,
        source: ObjectStore,
        source_key: str,
        key: str,
        content_type: str | None = None,
        version: str | None = None,
    ) -> str:
        if not isinstance(source, S3ObjectStore):
            return super().copy_from(source, source_key, key, content_type, version)
        # Server-side (multipart above the part size): no byte passes through this process.
        extra: dict[str, str] = {"MetadataDirective": "REPLACE"} if content_type else {}
        if content_type:
            extra["ContentType"] = content_type
        if version:
            extra["CopySourceIfMatch"] = version
        try:
            self.client.copy(
                {"Bucket": source.bucket, "Key": join_key(source_key)},
                self.bucket,
                join_key(key),
                ExtraArgs=extra,
                Config=_TRANSFER,
            )
        except ClientError as error:
            if _is_missing(error):
                raise ObjectNotFoundError(f"no object at {source.uri(source_key)}") from None
            raise
        return self.uri(key)

    def _object_call(self, operation: Any, key: str, **extra: Any) -> dict[str, Any]:
        """``operation(Bucket, Key)`` (get_object, head_object); ObjectNotFoundError when absent."""
        try:
            return operation(Bucket=self.bucket, Key=join_key(key), **extra)
        except ClientError as error:
            if _is_missing(error):
                raise ObjectNotFoundError(f"no object at {self.uri(key)}") from None
            raise

    def get_bytes(self, key: str) -> bytes:
        return self._object_call(self.client.get_object, key)["Body"].read()

    def last_modified(self, key: str) -> dt.datetime:
        return self._object_call(self.client.head_object, key)["LastModified"].astimezone(dt.UTC)

    def describe(self, key: str) -> ObjectInfo:
        head = self._object_call(self.client.head_object, key)
        return ObjectInfo(
            join_key(key),
            head["ContentLength"],
            head["LastModified"].astimezone(dt.UTC),
            "file",
            head.get("ETag"),
        )

    def open_read(self, key: str, version: str | None = None) -> BinaryIO:
        extra = {"IfMatch": version} if version else {}
        return self._object_call(self.client.get_object, key, **extra)["Body"]

    def exists(self, key: str) -> bool:
        # A listing, not a HEAD: S3 answers a HEAD of a missing key with 403 unless the caller may
        # list the whole bucket, while a listing of the key as prefix is allowed by a ListBucket
        # grant scoped to the key's prefix (s3:prefix), as the roles' grants are. The key itself,
        # when there, sorts first among the keys it prefixes.
        object_key = join_key(key)
        page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=object_key, MaxKeys=1)
        return any(item["Key"] == object_key for item in page.get("Contents", []))

    def list_keys(self, prefix: str = "", *, include_hidden: bool = False) -> list[str]:
        folder = join_key(prefix)
        folder = f"{folder}/" if folder else ""
        keys = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):  # folder markers some tools create
                    continue
                if include_hidden or not is_hidden(key[len(folder) :]):
                    keys.append(key)
        return sorted(keys)

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        # One ListObjectsV2 page answers for a thousand objects: no HEAD per key.
        folder = join_key(prefix)
        folder = f"{folder}/" if folder else ""
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.endswith("/") and not is_hidden(key[len(folder) :]):
                    found.append(
                        ObjectInfo(
                            key,
                            item["Size"],
                            item["LastModified"].astimezone(dt.UTC),
                            "file",
                            item.get("ETag"),
                        )
                    )
        return sorted(found, key=lambda info: info.key)

    def delete(self, keys: Iterable[str]) -> int:
        batch = [join_key(k) for k in keys]
        for start in range(0, len(batch), _DELETE_BATCH):
            chunk = batch[start : start + _DELETE_BATCH]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise OSError(f"could not delete {self.uri(first['Key'])}: {first.get('Message')}")
        return len(batch)

    def replace_prefix(self, prefix: str, objects: Mapping[str, bytes]) -> list[str]:
        """Replace a prefix's objects: upload to hidden staging, then copy in and prune.

        S3 has no multi-object commit, so this is weaker than the local adapter's swap:
        a run that dies while uploading (the slow part) leaves the live partition as it
        was, but the server-side copy-and-prune step that follows is a window of
        milliseconds per object in which a lister can see old and new files together,
        and a crash inside it leaves a mix that the next (idempotent) run repairs.
        Readers that need snapshot isolation on S3 need a table format (Iceberg), or what the
        processed zone does: write each run to a new prefix and switch the catalog's partition
        locations to it (:mod:`datalake.publishing`); the jobs no longer use this method.
        """
        staging = join_key(STAGING_PREFIX, uuid.uuid4().hex)
        old_keys = set(self.list_keys(prefix, include_hidden=True))
        written: list[str] = []
        try:
            for name in objects:
                self.put_bytes(join_key(staging, name), objects[name])
            for name in objects:
                final_key = join_key(prefix, name)
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=final_key,
                    CopySource={"Bucket": self.bucket, "Key": join_key(staging, name)},
                )
                written.append(final_key)
            self.delete(old_keys - set(written))
        finally:
            self.delete_prefix(staging)
        return written

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{join_key(key)}"


def _is_missing(error: ClientError) -> bool:
    """True when S3 answered that the object is not there (GET says NoSuchKey, HEAD a bare 404)."""
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")
