"""`trainplan sample`: write a deterministic FoxML-layout run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainplan.cli.app import app, make_console
from trainplan.cli.options import PolicyOption
from trainplan.config.policy import load_policy_document
from trainplan.config.settings import make_settings
from trainplan.samples.broken import generate_broken_run
from trainplan.samples.sample import SampleOptions, generate_sample


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the run directory into.")],
    targets: Annotated[int, typer.Option(min=1, help="Number of targets.")] = 6,
    symbols: Annotated[int, typer.Option(min=1, help="Number of symbols.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    snapshots: Annotated[int, typer.Option(min=1, help="Importance snapshots per stability scope.")] = 3,
    snapshot_features: Annotated[int, typer.Option(min=20, help="Features per importance snapshot.")] = 40,
    policy: PolicyOption = None,
    staged: Annotated[
        bool, typer.Option("--staged-layout", help="Newer FoxML layout: stage=<STAGE>/<VIEW>/.../universe=<sig>/.")
    ] = False,
    broken: Annotated[
        bool, typer.Option("--broken", help="The broken-files fixture (examples/broken_run); size options are ignored.")
    ] = False,
) -> None:
    """Write a deterministic FoxML-layout run directory."""
    doc = load_policy_document(make_settings(policy_path=policy).policy_path)
    if broken:
        path = generate_broken_run(out, doc)
    else:
        options = SampleOptions(
            out=out,
            targets=targets,
            symbols=symbols,
            seed=seed,
            staged_layout=staged,
            snapshots=snapshots,
            snapshot_features=snapshot_features,
        )
        path = generate_sample(options, doc)
    make_console().print(f"wrote {path}")
