"""View file names: one safe path component per name, distinct names never share a file, plain names decode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trainplan.plan.names import MAX_STEM, decode_name, encode_name, is_hashed, name_in_view_file, view_file_name

HOSTILE = ["../../x", "..", ".", "a/b", "/abs", "x\x00y", "a" * 300, "é" * 200, "", "~", "%41", "CON", " .x", "a\\b"]


def _safe_component(stem: str) -> bool:
    return (
        "/" not in stem
        and "\x00" not in stem
        and "\\" not in stem
        and stem not in {".", ".."}
        and not stem.startswith(".")
        and len((stem + ".json").encode()) <= 255
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_map_to_one_safe_component(name: str) -> None:
    stem = encode_name(name)
    assert _safe_component(stem), stem
    if not is_hashed(stem):
        assert decode_name(stem) == name


def test_reference_names_are_kept() -> None:
    assert view_file_name("AAPL") == "AAPL.json"
    assert view_file_name("y_will_peak_60m_0.8") == "y_will_peak_60m_0.8.json"


@given(st.text())
def test_round_trip_and_safety(name: str) -> None:
    stem = encode_name(name)
    assert _safe_component(stem)
    if len(stem) <= MAX_STEM and not is_hashed(stem):
        assert decode_name(stem) == name
    else:
        assert is_hashed(stem)


@given(st.text(), st.text())
def test_distinct_names_get_distinct_files(a: str, b: str) -> None:
    if a != b:
        assert encode_name(a) != encode_name(b)


def test_long_names_share_a_prefix_but_not_a_file() -> None:
    a, b = "x" * 400 + "1", "x" * 400 + "2"
    assert encode_name(a) != encode_name(b)
    assert encode_name(a)[:100] == encode_name(b)[:100]


@pytest.mark.parametrize("stem", ["%zz", "a/b", "%41", "%2E%2E", "%2e"])
def test_decode_rejects_what_encode_never_writes(stem: str) -> None:
    with pytest.raises(ValueError, match=r"escape|character|not the file name"):
        decode_name(stem)


def test_hashed_name_is_read_from_the_file(tmp_path: Path) -> None:
    name = "T" * 300
    path = tmp_path / view_file_name(name)
    path.write_text(json.dumps({"target": name, "jobs": []}))
    assert name_in_view_file(path, "target") == name
    with pytest.raises(ValueError, match="hashed"):
        decode_name(path.stem)
