"""Landing keys: which names a drop may land under, and how odd names are shown and stored safely.

A drop's name becomes part of a raw key that Spark, Athena and the crawlers list, and is printed
in logs and terminals. So a name that those tools would skip (``_x.csv``, ``.x.csv``), that
means another path (``..``, empty segments, backslashes) or that holds control characters (an
escape sequence, a bidi override that disguises the extension, a byte that is not UTF-8) is
rejected as ``bad_name``, with a record, instead of landing or vanishing.
"""

from __future__ import annotations

import unicodedata

# Bidi embeddings, overrides and isolates: they make "exe.csv" display as "csv.exe" (Trojan Source).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _control(ch: str) -> bool:
    """A C0/C1 control, DEL, a lone surrogate (an undecodable byte) or a bidi control."""
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def name_problem(key: str) -> str | None:
    """Why a landing key cannot land as it is, or None when it can.

    Parameters
    ----------
    key
        The drop's key in the landing bucket (URL-decoded), or its path below ``landing/``.

    Returns
    -------
    str or None
        One sentence naming the problem, for the ``bad_name`` reason record.
    """
    if not key or key.endswith("/"):
        return "the key names a folder (it ends with '/' or is empty), not a file"
    for position, ch in enumerate(key):
        if _control(ch):
            what = (
                f"a byte that is not UTF-8 (0x{ord(ch) - 0xDC00:02x})"
                if unicodedata.category(ch) == "Cs"
                else f"the control character U+{ord(ch):04X}"
            )
            return f"the name holds {what} at position {position}; rename the file"
    if "\\" in key:
        return "the name holds a backslash (a Windows path?); drop the file under a plain name"
    segments = key.split("/")
    odd = next((s for s in segments if s in ("", ".", "..")), None)
    if odd is not None:
        shown = "an empty" if odd == "" else f"a {odd!r}"
        return f"the key has {shown} path segment; drop the file under a plain path"
    name = segments[-1]
    if name.startswith(("_", ".")):
        return (
            f"the name starts with {name[0]!r}: Spark, Athena and the crawlers skip such files, "
            "so it would never be read; rename it"
        )
    return None


def recordable(key: str) -> str:
    """``key`` as text any JSON writer takes: undecodable bytes (lone surrogates) as ``\\xNN``."""
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def printable(key: str) -> str:
    """``key`` safe to print on a terminal: every unprintable character escaped (``\\x1b``, ``\\u202e``)."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in recordable(key))


def safe_name(name: str) -> str:
    """A name for keys in the lake: unprintable characters and backslashes as ``_``, not hidden."""
    cleaned = "".join(ch if ch.isprintable() and ch != "\\" else "_" for ch in name)
    return cleaned.lstrip("._") or "drop"
