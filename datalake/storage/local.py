"""Local directory adapter: the lake root stands in for a bucket, with the same key layout."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from datalake.errors import ObjectNotFoundError
from datalake.storage.base import STAGING_PREFIX, ObjectInfo, ObjectKind, ObjectStore
from datalake.storage.paths import join_key

#: Temporary files and half-built partitions live here, on the same filesystem as the data
#: (so renames are atomic) and under a hidden name (so no reader or crawler lists them).
STAGING_DIR = STAGING_PREFIX

_RENAME_EXCHANGE = 2
_LIST_ATTEMPTS = 100
_LIST_BY_FD = os.scandir in os.supports_fd
_AT_FDCWD = -100
# Opening never follows a link, and never waits on a FIFO (it is refused once open).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``; keys are POSIX relative paths."""

    scheme = "file"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        """The file path of a key (no existence check)."""
        clean = join_key(key)
        if any(part in ("..", ".") for part in clean.split("/")):
            raise ValueError(f"key must not contain '.' or '..' segments: {key!r}")
        return self.root / clean if clean else self.root

    def _staging_path(self) -> Path:
        staging = self.root / STAGING_DIR
        staging.mkdir(parents=True, exist_ok=True)
        return staging / uuid.uuid4().hex

    def _write_atomically(self, key: str, write: Callable[[BinaryIO], object]) -> str:
        """Write through a staging file, then rename it over the key (readers see old or new)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._staging_path()
        try:
            with open(tmp, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        return self._write_atomically(key, lambda handle: handle.write(data))

    def put_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        return self._write_atomically(key, lambda handle: shutil.copyfileobj(stream, handle))

    def _through_link(self, path: Path) -> bool:
        """True when a folder between the root and ``path`` is a link (the path leads elsewhere)."""
        return os.path.realpath(path.parent) != str(path.parent)

    def describe(self, key: str) -> ObjectInfo:
        path = self.path(key)
        try:
            status = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object at {self.uri(key)}") from None
        if stat.S_ISDIR(status.st_mode):
            raise ObjectNotFoundError(f"{self.uri(key)} is a folder, not an object")
        kind: ObjectKind = "file" if stat.S_ISREG(status.st_mode) else "other"
        if stat.S_ISLNK(status.st_mode) or self._through_link(path):
            kind = "link"
        return ObjectInfo(
            join_key(key), status.st_size, dt.datetime.fromtimestamp(status.st_mtime, dt.UTC), kind
        )

    def open_read(self, key: str, version: str | None = None) -> BinaryIO:
        # ``version`` is S3's: local files carry none, so there is nothing to compare.
        path = self.path(key)
        if self._through_link(path):
            raise OSError(errno.ELOOP, "a folder on the way is a symbolic link, not followed", str(path))
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object at {self.uri(key)}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ObjectNotFoundError(f"{self.uri(key)} is not a regular file")
            if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object at {self.uri(key)}") from None

    def last_modified(self, key: str) -> dt.datetime:
        try:
            return dt.datetime.fromtimestamp(self.path(key).stat().st_mtime, dt.UTC)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object at {self.uri(key)}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list_keys(self, prefix: str = "", *, include_hidden: bool = False) -> list[str]:
        base = self.path(prefix)
        # replace_prefix swaps a partition directory out and then deletes it, so a listing
        # that opened the old directory just before the swap can read it half-deleted. Such
        # a listing is detected (see _scan) and done again; it then sees the new set.
        for _ in range(_LIST_ATTEMPTS):
            keys = self._scan(base, include_hidden)
            if keys is not None:
                return sorted(keys)
        raise OSError(f"{base} was replaced during each of {_LIST_ATTEMPTS} listings")

    def _scan(self, base: Path, include_hidden: bool) -> list[str] | None:
        """Keys of the files below ``base``; None when a folder was swapped mid-listing."""
        keys: list[str] = []
        pending = [base]
        while pending:
            folder = pending.pop()
            try:
                # Where folders can be opened (POSIX), list through an fd so the folder read
                # is the one checked below; elsewhere (Windows) there is no exchange either.
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY) if _LIST_BY_FD else None
                entries = os.scandir(folder if fd is None else fd)
            except (FileNotFoundError, NotADirectoryError):
                # A missing prefix lists nothing; a subfolder that vanished was swapped away.
                return [] if folder == base else None
            try:
                rel = folder.relative_to(self.root).as_posix()
                with entries:
                    for entry in entries:
                        if not include_hidden and entry.name.startswith(("_", ".")):
                            continue
                        # Like os.walk, links are not followed; unlike it, a link to a folder
                        # is listed (as a key), so a landing run sees it and can refuse it.
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(folder / entry.name)
                        else:
                            keys.append(entry.name if rel == "." else f"{rel}/{entry.name}")
                # The listing is whole only if this folder is still the one at its path: a
                # replaced folder never comes back, and the open fd keeps its inode number
                # from being reused, so equal inodes mean it was live throughout.
                if fd is not None:
                    try:
                        now = os.stat(folder)
                    except FileNotFoundError:
                        return None
                    listed = os.fstat(fd)
                    if (now.st_ino, now.st_dev) != (listed.st_ino, listed.st_dev):
                        return None
            finally:
                if fd is not None:
                    os.close(fd)
        return keys

    def delete(self, keys: Iterable[str]) -> int:
        count = 0
        for key in keys:
            count += 1
            with contextlib.suppress(FileNotFoundError):
                self.path(key).unlink()
        return count

    def delete_prefix(self, prefix: str) -> int:
        count = len(self.list_keys(prefix, include_hidden=True))
        target = self.path(prefix)
        if target.is_dir():
            shutil.rmtree(target)
        return count

    def replace_prefix(self, prefix: str, objects: Mapping[str, bytes]) -> list[str]:
        target = self.path(prefix)
        staging = self._staging_path()
        staging.mkdir()
        try:
            for name, data in objects.items():
                file_path = staging / join_key(name)
                file_path.parent.mkdir(parents=True, exist_ok=True)
                with open(file_path, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.rename(staging, target)
            elif not _exchange(staging, target):
                # No atomic exchange on this OS: the partition is briefly absent, never half.
                old = self._staging_path()
                os.rename(target, old)
                os.rename(staging, target)
                staging = old
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return [join_key(prefix, name) for name in objects]

    def uri(self, key: str = "") -> str:
        return self.path(key).as_uri()

    def key_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else None
        if path is None or not (path == self.root or self.root in path.parents):
            raise ValueError(f"location {uri!r} is not in this store ({self.root.as_uri()}/)")
        return path.relative_to(self.root).as_posix() if path != self.root else ""
