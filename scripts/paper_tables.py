#!/usr/bin/env python3
"""Runs the paper examples' default synthetic runs and writes each one's results into its README.

Usage: paper_tables.py EXAMPLE... (names of examples/<name>/, built in target/release/examples)

For each example: runs `target/release/examples/<name> --quiet --discard-checkpoints` (its
default synthetic run: seeds 7 and 8), measures its wall time and peak memory, and replaces the
part of `examples/<name>/README.md` between `<!-- small-run:begin -->` and
`<!-- small-run:end -->` with the date, the machine, the command, those measurements and the
run's `out/papers/<name>/results.md`.
"""

import datetime
import os
import platform
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- small-run:begin -->", "<!-- small-run:end -->"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.machine()}, no GPU used"


def run(name):
    exe = os.path.join(ROOT, "target", "release", "examples", name)
    cmd = [exe, "--quiet", "--discard-checkpoints"]
    start = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    # Peak resident memory of the largest child so far (KiB on Linux): the examples run one
    # at a time, so this is this example's when it is the largest.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak


def splice(name, wall, peak):
    """Writes the run's results into the README; `peak` in MiB."""
    readme = os.path.join(ROOT, "examples", name, "README.md")
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{readme}: no {BEGIN} ... {END} section")
    with open(os.path.join(ROOT, "out", "papers", name, "results.md")) as f:
        results = f.read().strip()
    # The results' own title line is the README's job.
    results = "\n".join(results.splitlines()[1:]).strip()
    section = "\n".join([
        BEGIN,
        f"Measured on {datetime.date.today().isoformat()} with "
        f"`bash scripts/paper_tables.sh {name}` (that is `cargo run --release -p ptx-examples "
        f"--example {name} -- --quiet --discard-checkpoints`: the default synthetic run, "
        f"seeds 7 and 8) on {machine()}: {wall:.0f} s wall clock, peak memory {peak:.0f} MiB "
        "(the largest process of the script so far). A synthetic run, not the paper's data: it shows whether each configuration "
        "learns the synthetic lesions and whether two rows differ by more than the seeds' "
        "spread; it cannot show how the configurations rank on real radiographs, whose "
        "lesions are four times smaller and subtler.",
        "",
        "Below is `out/papers/" + name + "/results.md` from that run, as written: the run's "
        "tables, then the paper's.",
        "",
        results,
        END,
    ])
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as f:
        f.write(head + section + tail)


def main():
    for name in sys.argv[1:]:
        print(f"== {name}", flush=True)
        wall, peak = run(name)
        splice(name, wall, peak)
        print(f"   {wall:.0f} s, {peak:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
