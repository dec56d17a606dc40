"""Export helpers: the config hash, and the plan store's publication of a plan set."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from trainplan.export.header import config_hash
from trainplan.export.store import CURRENT, staged_plan


def test_config_hash_is_first_8_hex_of_raw_bytes(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(b"routing:\n  dev_mode: true  # comment\n")
    assert config_hash(p) == hashlib.sha256(p.read_bytes()).hexdigest()[:8]
    p.write_bytes(b"routing:\n  dev_mode: true\n")
    assert config_hash(p) != hashlib.sha256(b"routing:\n  dev_mode: true  # comment\n").hexdigest()[:8]


def test_config_hash_unknown_when_unreadable(tmp_path: Path) -> None:
    assert config_hash(tmp_path / "missing.yaml") == "unknown"


def test_staged_plan_publishes_both_folders_together(tmp_path: Path) -> None:
    globals_dir = tmp_path / "globals"
    for version in ("1", "2"):
        with staged_plan(globals_dir, ("routing_plan", "training_plan")) as staging:
            (staging / "routing_plan" / "r.json").write_text(version)
            (staging / "training_plan" / "t.json").write_text(version)
            if version == "1":
                (staging / "training_plan" / "only_in_1.json").write_text(version)
        assert (globals_dir / "routing_plan" / "r.json").read_text() == version
        assert (globals_dir / "training_plan" / "t.json").read_text() == version
    assert not (globals_dir / "training_plan" / "only_in_1.json").exists()
    current = os.readlink(globals_dir / CURRENT)
    assert sorted(p.name for p in globals_dir.iterdir()) == sorted([CURRENT, current, "routing_plan", "training_plan"])


def test_staged_plan_discards_on_error(tmp_path: Path) -> None:
    globals_dir = tmp_path / "globals"
    with staged_plan(globals_dir, ("training_plan",)) as staging:
        (staging / "training_plan" / "t.json").write_text("old")
    with pytest.raises(RuntimeError, match="boom"), staged_plan(globals_dir, ("training_plan",)) as staging:
        (staging / "training_plan" / "t.json").write_text("new")
        raise RuntimeError("boom")
    assert (globals_dir / "training_plan" / "t.json").read_text() == "old"
    assert len([p for p in globals_dir.iterdir() if p.name.startswith(".plan-") and not p.is_symlink()]) == 1
