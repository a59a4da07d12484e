"""``model.tar.gz``: a model directory packed the way SageMaker expects it (files at the tar root)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from datalake.errors import DataValidationError

MODEL_ARCHIVE = "model.tar.gz"


def pack_model_dir(model_dir: Path) -> bytes:
    """Pack a model directory into ``model.tar.gz`` bytes, its files at the archive root.

    The archive is deterministic (sorted names, zero timestamps and owners), so packing the
    same directory twice gives the same bytes and a re-upload changes nothing.

    Parameters
    ----------
    model_dir
        Directory to pack; every regular file below it goes in under its relative path.

    Returns
    -------
    bytes
        The gzip-compressed tar archive.
    """
    model_dir = Path(model_dir)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    if not files:
        raise DataValidationError("model_dir", f"{model_dir} has no files to pack")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            info = tarfile.TarInfo(path.relative_to(model_dir).as_posix())
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    # gzip with mtime=0: the header would otherwise carry the packing time.
    return gzip.compress(raw.getvalue(), mtime=0)


def unpack_model_archive(data: bytes, destination: Path) -> Path:
    """Unpack ``model.tar.gz`` bytes into ``destination`` and return it.

    Members that would land outside ``destination`` (absolute paths, ``..``, links pointing
    out) are refused by the tarfile ``data`` filter.

    Parameters
    ----------
    data
        The archive's bytes.
    destination
        Folder to unpack into; created when missing.

    Returns
    -------
    pathlib.Path
        ``destination``.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise DataValidationError("model.tar.gz", f"cannot unpack: {error}") from None
    return destination
