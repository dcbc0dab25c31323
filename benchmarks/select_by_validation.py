"""The learning rate of each row chosen on validation, seed by seed, from a grid of runs.

Reads every results.json under the given folders (at any depth) and groups the rows by model
(with its stage) and dataset. A group whose rows were trained at more than one learning rate
is a grid: for each seed the rate of lowest validation score (the score the trainer selected
epochs by) is chosen, and its test metric is the row's result. Writes one Markdown table
(every rate's validation and test score per seed, then the chosen rate per seed and the mean
± sample standard deviation of the chosen rows; and, among the rates run for every seed, the
one of lowest mean validation score) to --out and prints it. Rows written before
rows recorded their rate give it in their command (``--lr``).
Run from the repository root, e.g.:

    .venv/bin/python benchmarks/select_by_validation.py \\
        benchmarks/results/pt-tuning-etth1-h192-pretrain10 \\
        benchmarks/results/stage-lr-pt-tuning-etth1-h192-pretrain10 \\
        --out benchmarks/results/stage-lr-pt-tuning-etth1-h192-pretrain10/results.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def learning_rate(row: dict) -> float:
    """The rate ``row`` was trained at: its own field, else the ``--lr`` of its command."""
    if "lr" in row:
        return float(row["lr"])
    words = shlex.split(row["command"])
    if "--lr" not in words:
        raise SystemExit(f"a row of {row['model']} records no learning rate")
    return float(words[words.index("--lr") + 1])


def spread(values: list[float]) -> str:
    """``mean ± sample std`` (the mean alone for one value)."""
    mean = statistics.fmean(values)
    return f"{mean:.4f}" if len(values) < 2 else f"{mean:.4f} ± {statistics.stdev(values):.4f}"


def grid_table(name: str, rows: list[dict], metric: str) -> list[str]:
    """The Markdown lines of one grid: a line per rate, then the rates validation chose."""
    seeds = sorted({r["seed"] for r in rows})
    by_rate: dict[float, dict[int, dict]] = defaultdict(dict)
    for row in rows:
        rate, seed = learning_rate(row), row["seed"]
        if seed in by_rate[rate]:
            raise SystemExit(f"{name}: two runs at lr {rate:g} for seed {seed}; pass one")
        by_rate[rate][seed] = row
    header = " | ".join(f"seed {s}: val / test" for s in seeds)
    lines = [
        f"**{name}** (test {metric})",
        "",
        f"| lr | {header} | test, seeds run |",
        "|---|" + "---:|" * (len(seeds) + 1),
    ]
    for rate in sorted(by_rate):
        cells = [
            f"{by_rate[rate][s]['val_score']:.4f} / {by_rate[rate][s]['metrics'][metric]:.4f}"
            if s in by_rate[rate]
            else ""
            for s in seeds
        ]
        tests = [r["metrics"][metric] for r in by_rate[rate].values()]
        lines.append(f"| {rate:g} | " + " | ".join(cells) + f" | {spread(tests)} |")
    chosen = {
        s: min((g[s] for g in by_rate.values() if s in g), key=lambda r: r["val_score"])
        for s in seeds
    }
    cells = [f"{learning_rate(r):g}: {r['metrics'][metric]:.4f}" for r in chosen.values()]
    tests = [r["metrics"][metric] for r in chosen.values()]
    lines += ["| **chosen on validation** | " + " | ".join(cells) + f" | **{spread(tests)}** |"]
    complete = [rate for rate, runs in by_rate.items() if set(runs) == set(seeds)]
    if len(complete) > 1:  # one rate for every seed: the lowest mean validation score
        rate = min(
            complete, key=lambda r: statistics.fmean(x["val_score"] for x in by_rate[r].values())
        )
        tests = [by_rate[rate][s]["metrics"][metric] for s in seeds]
        lines += [
            f"| one rate for all seeds (lowest mean validation): {rate:g} |"
            + " |" * len(seeds)
            + f" {spread(tests)} |"
        ]
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True, help="the Markdown file to write")
    parser.add_argument("--metric", default="MSE", help="the test metric to report (MSE)")
    args = parser.parse_args()
    paths = sorted({p for folder in args.folders for p in folder.rglob("results.json")})
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for path in paths:
        if any(p != path and p.is_relative_to(path.parent) for p in paths):
            continue  # a combined table: it repeats the pieces below it
        for row in json.loads(path.read_text())["rows"]:
            if row.get("val_score") is not None:
                groups[(row["model"], row["dataset"])].append(row)
    grids = {k: v for k, v in groups.items() if len({learning_rate(r) for r in v}) > 1}
    if not grids:
        raise SystemExit("no row was trained at more than one learning rate under these folders")
    command = " ".join(["python", *map(str, sys.argv)])
    lines = [
        f"Command: `.venv/bin/{command}`",
        "",
        "Validation score: the score each run selected its epoch by; for each seed the rate "
        "of lowest validation score is chosen. Test: every test window scored once.",
        "",
    ]
    for (model, dataset), rows in sorted(grids.items()):
        lines += grid_table(f"{model} on {dataset}", rows, args.metric)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
