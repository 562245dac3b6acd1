"""`make docs-data`: run the benchmarks and sweeps whose saved output the docs show.

Each entry of RESULTS is one command at its documented settings; its console output goes to
docs/_generated/NAME.txt (and a sweep writes its figures and tables into docs/_generated/NAME/).
MANIFEST.json records the command of every saved result; `make docs` fails when an entry here
and the manifest disagree (the settings changed but the result was not regenerated) or when a
result is missing. Run it from the repository root: ``python docs/_ext/docs_data.py [NAME...]``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "_generated"
MANIFEST = GENERATED / "MANIFEST.json"
COLUMNS = "110"

RESULTS: dict[str, str] = {
    "bench-admission": "opt-offload bench admission",
    "bench-admission-gap": "opt-offload bench admission-gap",
    "bench-assignment-gap": "opt-offload bench assignment-gap",
    "bench-backends": "opt-offload bench backends --scale-tasks 1000 --orlib-d 1-2",
    "bench-placement": "opt-offload bench placement",
    "bench-sparse-attention": "opt-offload bench sparse-attention",
    "stability-testbed-s0": "opt-offload stability instances/assignment/testbed-s0.json",
    "sweep": "opt-offload sweep --seeds 5 --out docs/_generated/sweep",
    "sweep-exact": (
        "opt-offload sweep --strategies prada,exact --seeds 20 --capacities 9,22 "
        "--bandwidths 3.162e4,1e5,4e7 --out docs/_generated/sweep-exact"
    ),
}


def read_manifest() -> dict:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def stale_results() -> list[str]:
    """One line per result that is missing or whose saved command is not RESULTS' command."""
    manifest = read_manifest()
    problems = []
    for name, command in RESULTS.items():
        saved = manifest.get(name, {})
        if not (GENERATED / f"{name}.txt").exists():
            problems.append(f"{name}: no saved output (run `make docs-data`)")
        elif saved.get("command") != command:
            problems.append(
                f"{name}: saved with {saved.get('command')!r}, the docs now use {command!r} "
                "(run `make docs-data`)"
            )
    return problems


def run(name: str) -> dict:
    command = RESULTS[name]
    env = {**os.environ, "COLUMNS": COLUMNS}
    start = time.perf_counter()
    done = subprocess.run(
        shlex.split(command), cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{name}: `{command}` exited {done.returncode}:\n{done.stderr}")
    (GENERATED / f"{name}.txt").write_text(done.stdout)
    return {"command": command, "wall_s": round(time.perf_counter() - start, 1)}


def main(names: list[str]) -> None:
    GENERATED.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest()
    for name in names or list(RESULTS):
        if name not in RESULTS:
            sys.exit(f"unknown result {name!r} (known: {', '.join(RESULTS)})")
        print(f"{name}: {RESULTS[name]}", flush=True)
        manifest[name] = run(name)
        MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
