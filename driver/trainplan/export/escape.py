"""Text escaping for the plan files, defined once: the characters YAML 1.1 readers reject raw, and Markdown cells.

JSON leaves DEL (U+007F) and the C1 controls (U+0080-U+009F) raw; YAML 1.1 readers reject them, so YAML strings
escape them. Every spelling of that set below (Python regex, UTF-8 byte scan, DuckDB regex and replace chain) is
derived from the one range here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

YAML_UNSAFE_FIRST, YAML_UNSAFE_LAST = 0x7F, 0x9F
YAML_UNSAFE_CODES = range(YAML_UNSAFE_FIRST, YAML_UNSAFE_LAST + 1)

_UNSAFE_TEXT = re.compile(f"[{chr(YAML_UNSAFE_FIRST)}-{chr(YAML_UNSAFE_LAST)}]")
# The same characters in UTF-8: DEL is one byte; U+0080-U+009F are C2 80 - C2 9F. Two patterns, each starting with a
# literal byte, which the regex engine finds with a fast scan (an alternation is ten times slower).
_UNSAFE_UTF8 = (
    re.compile(bytes([YAML_UNSAFE_FIRST])),
    re.compile(b"\xc2[" + bytes([0x80]) + b"-" + bytes([YAML_UNSAFE_LAST]) + b"]"),
)
# DuckDB (RE2) character class of the same set.
SQL_UNSAFE_CLASS = f"[\\x{{{YAML_UNSAFE_FIRST:x}}}-\\x{{{YAML_UNSAFE_LAST:x}}}]"


def yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax; the unsafe characters escaped as \\uXXXX)."""
    return _UNSAFE_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def utf8_needs_yaml_escape(chunks: Iterable[bytes | memoryview]) -> bool:
    """Whether any chunk of UTF-8 text holds an unsafe character (a byte scan, no decoding)."""
    return any(pattern.search(data) is not None for data in chunks for pattern in _UNSAFE_UTF8)


def sql_yaml_escape_chain(expr: str) -> str:
    """A DuckDB expression escaping every unsafe character of the JSON text `expr` as \\uXXXX."""
    for code in YAML_UNSAFE_CODES:
        expr = f"replace({expr}, chr({code}), '\\u{code:04x}')"
    return expr


def md_cell(value: str | None) -> str:
    """Text safe in a Markdown table cell or heading: `|` escaped, line breaks as spaces (the SQL twin is the
    `md_cell` macro of `trainplan.export.sql`)."""
    return (value or "").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
