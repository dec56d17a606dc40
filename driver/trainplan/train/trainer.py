"""Resolving `--trainer`: `package.module:function` or `path/to/file.py:function`.

The module form imports with the working directory first on `sys.path` (like `python -m`); the path form loads
the file (its folder first on `sys.path`, like `python path/to/file.py`). `train` resolves the trainer once in its
own process before any job starts, so a typo is an exit-2 error with nothing run; each worker resolves it again.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from trainplan.errors import TrainplanError

Trainer = Callable[[Any, Any], Any]
FORM = "module:function or path/to/file.py:function"


class TrainerNotFound(TrainplanError):
    """The trainer given with --trainer cannot be imported or is not a function of (job, context)."""


def _split(spec: str) -> tuple[str, str]:
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise TrainerNotFound(f"--trainer {spec!r}: expected {FORM}")
    return where, name


def _is_path(where: str) -> bool:
    return where.endswith(".py") or "/" in where


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise TrainerNotFound(f"--trainer: no such file {path}")
    name = f"_trainplan_trainer_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TrainerNotFound(f"--trainer: cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec.loader.exec_module(module)
    return module


def _import(module_name: str, cwd: Path) -> ModuleType:
    if str(cwd) not in sys.path:
        sys.path.insert(0, str(cwd))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and (module_name == err.name or module_name.startswith(err.name + ".")):
            raise TrainerNotFound(
                f"--trainer: no module named {module_name!r} (looked in {cwd} and on sys.path)"
            ) from err
        raise


def load_trainer(spec: str, cwd: Path) -> Trainer:
    """The trainer function; TrainerNotFound when the module, file or function is missing or unusable.

    An exception raised while the module itself runs (its own bug, or a package it needs) is reported as such.
    """
    where, name = _split(spec)
    try:
        module = _load_file((cwd / where).resolve()) if _is_path(where) else _import(where, cwd)
    except TrainerNotFound:
        raise
    except Exception as err:
        raise TrainerNotFound(f"--trainer {spec!r}: importing it failed: {type(err).__name__}: {err}") from err
    function = getattr(module, name, None)
    if function is None:
        raise TrainerNotFound(f"--trainer {spec!r}: {where} has no attribute {name!r}")
    if not callable(function):
        raise TrainerNotFound(f"--trainer {spec!r}: {name} is not callable")
    try:
        inspect.signature(function).bind(None, None)
    except TypeError as err:
        raise TrainerNotFound(f"--trainer {spec!r}: must accept (job, context): {err}") from err
    except ValueError:
        pass  # a builtin without a signature: let the call decide
    return function
