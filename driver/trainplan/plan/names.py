"""File names of the derived views (by_target/, by_symbol/, ...): a reversible, folder-safe mapping of a name.

Target and symbol names come from the run directory and can hold anything: `/`, `..`, NUL, 300 characters. The
view file of a name is `encode_name(name) + ".json"`, where `encode_name` is:

- ASCII letters, digits, `_`, `-` and `.` stay as they are (so `AAPL` → `AAPL.json` and `y_will_peak_60m_0.8` →
  `y_will_peak_60m_0.8.json`, the reference's names), except a leading `.` (no hidden files, no `.`/`..`);
- every other byte of the name's UTF-8 form, `%` included, becomes `%XX` (two upper-case hex digits);
- the empty name is `%` (a lone `%` is never produced otherwise);
- a result longer than MAX_STEM bytes keeps its first PREFIX_LEN bytes (never cutting an escape) and appends `~`
  and the first 32 hex digits of the SHA-256 of the name's UTF-8 bytes. `~` is always escaped in the plain form,
  so a `~` in a file name marks the hashed form.

The plain form is decoded by `decode_name` (percent-decoding); the hashed form is not decodable from the file name
alone: the view file itself holds the name (its `target` / `symbol` key), see `name_in_view_file`. Distinct names
never share a file: the plain form is injective, and hashed forms differ by the hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

MAX_STEM = 180
PREFIX_LEN = 120
HASH_HEX = 32
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _plain(name: str) -> str:
    raw = name.encode("utf-8", "surrogatepass")
    parts = []
    for i, byte in enumerate(raw):
        if byte in _SAFE and not (i == 0 and byte == ord(".")):
            parts.append(chr(byte))
        else:
            parts.append(f"%{byte:02X}")
    return "".join(parts)


def encode_name(name: str) -> str:
    """The file stem for `name` (see the module docstring); always a single, safe path component."""
    if name == "":
        return "%"
    plain = _plain(name)
    if len(plain) <= MAX_STEM:
        return plain
    cut = PREFIX_LEN
    escape_start = plain.rfind("%", cut - 2, cut)
    if escape_start != -1:
        cut = escape_start
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]
    return f"{plain[:cut]}~{digest}"


def is_hashed(stem: str) -> bool:
    return "~" in stem


def decode_name(stem: str) -> str:
    """The name behind a plain-form stem. Raises ValueError for a hashed stem or one encode_name cannot produce."""
    if is_hashed(stem):
        raise ValueError(f"{stem!r} is a hashed file name: read the name from the file (name_in_view_file)")
    if stem == "%":
        return ""
    out = bytearray()
    i = 0
    while i < len(stem):
        if stem[i] == "%":
            if not _ESCAPE.fullmatch(stem, i, i + 3):
                raise ValueError(f"{stem!r}: bad escape at position {i}")
            out.append(int(stem[i + 1 : i + 3], 16))
            i += 3
        else:
            if ord(stem[i]) not in _SAFE:
                raise ValueError(f"{stem!r}: unexpected character {stem[i]!r} at position {i}")
            out.append(ord(stem[i]))
            i += 1
    name = out.decode("utf-8", "surrogatepass")
    if encode_name(name) != stem:
        raise ValueError(f"{stem!r} is not the file name of any name")
    return name


def view_file_name(name: str) -> str:
    return encode_name(name) + ".json"


def name_in_view_file(path: Path, key: str) -> str:
    """The name a view file belongs to: decoded from its file name, or read from the file for a hashed name."""
    stem = path.name.removesuffix(".json")
    if not is_hashed(stem):
        return decode_name(stem)
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)[key]
