"""Export helpers: the config hash and the all-or-nothing swap of a plan folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from driver import export
from driver.export import config_hash, write_plan_dir


def test_config_hash_is_first_8_hex_of_raw_bytes(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(b"routing:\n  dev_mode: true  # comment\n")
    assert config_hash(p) == hashlib.sha256(p.read_bytes()).hexdigest()[:8]
    p.write_bytes(b"routing:\n  dev_mode: true\n")
    assert config_hash(p) != hashlib.sha256(b"routing:\n  dev_mode: true  # comment\n").hexdigest()[:8]


def test_config_hash_unknown_when_unreadable(tmp_path: Path) -> None:
    assert config_hash(tmp_path / "missing.yaml") == "unknown"


def test_write_plan_dir_replaces_whole_folder(tmp_path: Path) -> None:
    dest = tmp_path / "globals" / "training_plan"
    write_plan_dir(dest, {"a.json": {"v": 1}, "b.json": {"v": 1}})
    write_plan_dir(dest, {"a.json": {"v": 2}})
    assert sorted(p.name for p in dest.iterdir()) == ["a.json"]
    assert json.loads((dest / "a.json").read_text()) == {"v": 2}
    assert [p.name for p in dest.parent.iterdir()] == ["training_plan"]


def test_failed_write_leaves_previous_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "training_plan"
    write_plan_dir(dest, {"a.json": {"v": 1}, "b.json": {"v": 1}})

    real_dumps = json.dumps
    calls = {"n": 0}

    def failing_dumps(obj, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_dumps(obj, **kw)

    monkeypatch.setattr(export.json, "dumps", failing_dumps)
    with pytest.raises(OSError, match="disk full"):
        write_plan_dir(dest, {"a.json": {"v": 2}, "b.json": {"v": 2}})
    assert json.loads((dest / "a.json").read_text()) == {"v": 1}
    assert json.loads((dest / "b.json").read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["training_plan"]
