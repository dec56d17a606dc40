"""A real two-node Ray cluster on this machine for the Ray executor's tests: `ray start --head` and a second
`ray start --address` node, each its own raylet with one CPU, a node name of its own and free ports.

Each `ray start` runs in a session (so a process group) of its own; Ray starts its workers in process groups of
their own, as children of the node's raylet. `kill_node` SIGKILLs a node's group and every descendant of it,
so it stops exactly the processes of that node (a node "dies"); `stop` does that for every node of the cluster
(never `ray stop`, which stops every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
HEAD, WORKER = "tp-head", "tp-worker"
WORKER_IP = "127.0.0.2"  # the second raylet's own address, so a driver on this machine attaches to the head's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def _ports() -> list[str]:
    return [
        "--dashboard-agent-listen-port",
        str(free_port()),
        "--metrics-export-port",
        str(free_port()),
        "--runtime-env-agent-port",
        str(free_port()),
    ]


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def _group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    found.append(int(entry))
            except ProcessLookupError:
                continue
    return found


@dataclass
class RayCluster:
    temp_dir: Path
    address: str = ""
    groups: dict[str, int] = field(default_factory=dict)  # node name -> process group of its `ray start`
    owned_temp: bool = False

    def start(self, tries: int = 3) -> RayCluster:
        """Start the head and the worker node; again on fresh ports when a start fails (a port picked free can be
        taken by another process before `ray start` binds it)."""
        for attempt in range(1, tries):
            try:
                return self._start_once()
            except (RuntimeError, subprocess.SubprocessError) as err:
                print(f"Ray test cluster: start {attempt} of {tries} failed, trying again: {err}", file=sys.stderr)
                for name in [WORKER, HEAD]:
                    self.kill_node(name)
        return self._start_once()

    def _start_once(self) -> RayCluster:
        port = free_port()
        self._ray_start(
            HEAD,
            "--head",
            "--port",
            str(port),
            "--temp-dir",
            str(self.temp_dir),
            "--include-dashboard",
            "false",
            "--dashboard-port",
            str(free_port()),
        )
        head_ip = (self.temp_dir / "ray_current_cluster").read_text().strip().rsplit(":", 1)[0]
        self.address = f"{head_ip}:{port}"
        self._ray_start(WORKER, "--address", self.address, "--node-ip-address", WORKER_IP)
        self.wait_for_nodes(2)
        return self

    def _ray_start(self, name: str, *args: str) -> None:
        proc = subprocess.Popen(
            [str(RAY), "start", *args, "--num-cpus", "1", "--node-name", name, "--disable-usage-stats", *_ports()],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.groups[name] = proc.pid
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"ray start ({name}) failed:\n{out[-3000:]}")

    def nodes(self) -> dict[str, str]:
        """Alive node name -> node id, asked of the cluster by a separate process."""
        code = (
            f"import ray, json, logging; ray.init(address={self.address!r}, logging_level=logging.ERROR, "
            "log_to_driver=False); print('NODES ' + json.dumps({n['NodeName']: n['NodeID'] for n in ray.nodes() "
            "if n['Alive']}), flush=True)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120, check=True
        )
        # Ray may print warnings on stdout too (e.g. "raylet has lagging heartbeats"), before or after the answer
        answer = [line for line in out.stdout.splitlines() if line.startswith("NODES ")]
        if len(answer) != 1:
            raise RuntimeError(f"no node list from the cluster:\n{out.stdout[-3000:]}")
        return dict(json.loads(answer[0].removeprefix("NODES ")))

    def wait_for_nodes(self, count: int) -> None:
        deadline = time.monotonic() + 120
        while len(self.nodes()) != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray cluster did not reach {count} nodes")
            time.sleep(0.5)

    def kill_node(self, name: str) -> None:
        """SIGKILL the node's processes: its `ray start` group and every descendant (its workers)."""
        pgid = self.groups.pop(name, None)
        if pgid is None:
            return
        children = _children()
        todo = _group(pgid)
        seen: set[int] = set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            todo.extend(children.get(pid, []))
        for pid in seen:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for name in [WORKER, HEAD]:
            self.kill_node(name)
        if self.owned_temp:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def short_temp_dir(candidate: Path) -> tuple[Path, bool]:
    """Ray's Unix sockets live under its temp dir and their paths must stay under 107 bytes: use `candidate`
    when short enough, else a fresh folder under /tmp (removed by `RayCluster.stop`)."""
    if len(str(candidate)) <= 40:
        return candidate, False
    return Path(tempfile.mkdtemp(prefix="tpray-", dir="/tmp")), True
