"""Result files of ``stgraph bench``: JSON, CSV and Markdown, written atomically."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import shutil
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from stgraph.bench.published_forecasts import published_markdown
from stgraph.errors import InputError

FILES = ("results.json", "results.csv", "results.md")


def prepare_out_dir(out: Path) -> Path:
    """Create ``out`` if needed and check that it is a writable folder."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create --out folder {out}: {err.strerror}") from err
    if not out.is_dir() or not os.access(out, os.W_OK):
        raise InputError(f"--out folder is not writable: {out}")
    return out


@contextlib.contextmanager
def output_folder(out: Path, create: bool = True) -> Iterator[Path]:
    """Create ``out`` (when ``create``) and hold it for the block: a second run pointed at the
    same folder meanwhile is refused. If the block fails and the folder did not exist before,
    it is removed again when nothing was written in it (checkpoints written for ``--resume``
    are kept)."""
    existed = out.exists()
    if not create:
        yield out
        return
    prepare_out_dir(out)
    try:
        with _exclusive(out):
            yield out
    except BaseException:
        if not existed and out.is_dir() and not any(p.is_file() for p in out.rglob("*")):
            shutil.rmtree(out, ignore_errors=True)
        raise


LOCK_NAME = ".stgraph.lock"


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """An advisory lock on ``out/.stgraph.lock`` for the block. The kernel drops it when the
    process ends, so a killed run never leaves a stale lock behind."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: run unguarded
        yield
        return
    path = out / LOCK_NAME
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as err:
        handle.close()
        raise InputError(
            f"another stgraph run is writing to {out}; wait for it to finish or choose "
            "another output folder"
        ) from err
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _write_text(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def summarise(rows: list[dict]) -> list[dict]:
    """One entry per (model, dataset): metric mean and sample standard deviation (ddof = 1)
    over seeds, and the costs."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["model"], row["dataset"])].append(row)
    summary = []
    for (model, dataset), group in groups.items():
        entry = {}
        if "attribute_metrics" in group[0]:
            entry["attribute_metrics"] = {
                name: spread_over_seeds([r["attribute_metrics"][name] for r in group])
                for name in group[0]["attribute_metrics"]
            }
        summary.append(
            entry
            | {
                "model": model,
                "dataset": dataset,
                "task": group[0]["task"],
                "protocol": group[0]["protocol"],
                "seeds": [r["seed"] for r in group],
                "metrics": spread_over_seeds([r["metrics"] for r in group]),
                "trainable_parameters": group[0]["trainable_parameters"],
                "total_parameters": group[0]["total_parameters"],
                "trainable_share": group[0]["trainable_share"],
                "seconds_per_epoch": statistics.fmean(r["seconds_per_epoch"] for r in group),
                "train_samples_per_second": statistics.fmean(
                    r["train_samples_per_second"] for r in group
                ),
                "wall_seconds": statistics.fmean(r["wall_seconds"] for r in group),
            }
        )
    return summary


def spread_over_seeds(metrics: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation (ddof = 1) of each metric over seeds (``nan`` when
    a seed's value is undefined, e.g. a MAPE without a non-zero truth)."""
    spread = {}
    for key in metrics[0]:
        values = [m[key] for m in metrics]
        if not all(math.isfinite(v) for v in values):
            spread[key] = {"mean": math.nan, "std": math.nan}
            continue
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        spread[key] = {"mean": statistics.fmean(values), "std": std}
    return spread


def format_value(stat: dict, seeds: int, digits: int = 4, sep: str = " ± ") -> str:
    """``mean ± std`` (or ``mean`` for one seed)."""
    if math.isnan(stat["mean"]):
        return "n/a"
    return f"{stat['mean']:.{digits}f}" + (f"{sep}{stat['std']:.{digits}f}" if seeds > 1 else "")


def metric_names(summary: list[dict]) -> list[str]:
    """Metric names without horizon suffix, in first-seen order."""
    names: list[str] = []
    for entry in summary:
        names += [k for k in entry["metrics"] if "@" not in k and k not in names]
    return names


def step_labels(entry: dict) -> list[str]:
    """``["avg", "3", "6", "12"]``: the average, then each reported horizon step."""
    steps = sorted({int(k.split("@")[1]) for k in entry["metrics"] if "@" in k})
    return ["avg", *map(str, steps)]


def metric_columns(summary: list[dict]) -> list[str]:
    """Every metric key: the averages, then each horizon step."""
    keys: list[str] = []
    for entry in summary:
        keys += [k for k in entry["metrics"] if k not in keys]
    return sorted(keys, key=lambda k: (int(k.split("@")[1]) if "@" in k else 0, k))


def markdown(summary: list[dict], command: str) -> str:
    """Markdown table (one row per model and step), with the protocol and the command."""
    names = metric_names(summary)
    lines = [f"Command: `{command}`", ""]
    for protocol in sorted({s["protocol"] for s in summary}):
        lines.append(
            f"Protocol: {protocol}. Test set; mean ± sample standard deviation (ddof = 1) "
            "over seeds; `avg` is the masked mean over all predicted steps."
        )
    lines += [
        "",
        "| model | dataset | seeds | step | "
        + " | ".join(names)
        + " | trainable / total params (share) | s / epoch | train samples / s |",
        "|---|---|---:|---|" + "---:|" * len(names) + "---:|---:|---:|",
    ]
    for s in summary:
        seeds = len(s["seeds"])
        for index, step in enumerate(step_labels(s)):
            suffix = "" if step == "avg" else f"@{step}"
            values = " | ".join(format_value(s["metrics"][n + suffix], seeds) for n in names)
            costs = (
                f"{s['trainable_parameters']:,} / {s['total_parameters']:,} "
                f"({100 * s['trainable_share']:.2f} %) | "
                f"{s['seconds_per_epoch']:.2f} | {s['train_samples_per_second']:.0f}"
                if index == 0
                else " | | "
            )
            head = f"{s['model']} | {s['dataset']} | {seeds}" if index == 0 else " | | "
            lines.append(f"| {head} | {step} | {values} | {costs} |")
    lines += attribute_tables(summary, names)
    return "\n".join(lines) + "\n"


def attribute_tables(summary: list[dict], names: list[str]) -> list[str]:
    """Markdown lines: per metric, one row per attribute and one column per result entry
    that scores attributes on their own (the averages over all steps; mean ± std)."""
    entries = [s for s in summary if "attribute_metrics" in s]
    if not entries:
        return []
    attributes = list(dict.fromkeys(a for s in entries for a in s["attribute_metrics"]))
    lines = []
    for name in names:
        lines += [
            "",
            f"Per attribute, {name} over all predicted steps (columns: model, dataset):",
            "",
            "| attribute | " + " | ".join(f"{s['model']}, {s['dataset']}" for s in entries) + " |",
            "|---|" + "---:|" * len(entries),
        ]
        for attribute in attributes:
            cells = [
                format_value(s["attribute_metrics"][attribute][name], len(s["seeds"]), 3)
                if attribute in s["attribute_metrics"]
                else ""
                for s in entries
            ]
            lines.append(f"| {attribute} | " + " | ".join(cells) + " |")
    return lines


NESTED_FIELDS = ("metrics", "attribute_metrics", "test_sums", "attributes")
"""Row fields that stay out of the CSV (the JSON holds them); metrics are flattened instead."""


def write_results(
    out: Path, rows: list[dict], command: str, published: list[dict] | None = None
) -> list[Path]:
    """Write ``results.json``, ``results.csv`` and ``results.md`` into ``out``; ``published``
    rows (:func:`~stgraph.bench.published_forecasts.published_forecasts`) are quoted after
    ours in the JSON and the Markdown, never mixed into the CSV."""
    published = published or []
    summary = summarise(rows)
    _write_text(
        out / "results.json",
        json.dumps({"rows": rows, "summary": summary, "published": published}, indent=2),
    )
    buffer = io.StringIO()
    metric_keys = metric_columns(summary)
    plain = list(dict.fromkeys(k for row in rows for k in row if k not in NESTED_FIELDS))
    writer = csv.DictWriter(buffer, fieldnames=plain + metric_keys)
    writer.writeheader()
    for row in rows:
        flat = {k: v for k, v in row.items() if k not in NESTED_FIELDS}
        flat.update({k: row["metrics"].get(k, "") for k in metric_keys})
        writer.writerow(flat)
    _write_text(out / "results.csv", buffer.getvalue())
    quoted = "".join(f"{line}\n" for line in published_markdown(published))
    _write_text(out / "results.md", markdown(summary, command) + quoted)
    return [out / name for name in FILES]


def write_region_results(out: Path, rows: list[dict], command: str) -> tuple[list[Path], list]:
    """Write the region benchmark's JSON, CSV and Markdown (with HAFusion's published rows and
    the verdict against the strongest baseline)."""
    from stgraph.bench.regions import published_rows, summarise_regions, verdicts

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    city = rows[0]["dataset"]
    summary = []
    published = published_rows(city, tasks)
    for task in tasks:
        summary += [s for s in summarise_regions(rows) if s["task"] == task]
        summary += [
            {
                **p,
                "seeds": 1,
                "metrics": {k: {"mean": v, "std": 0.0} for k, v in p["metrics"].items()},
            }
            for p in published
            if p["task"] == task
        ]
    verdict = verdicts(rows)
    _write_text(
        out / "results.json",
        json.dumps(
            {"rows": rows, "published": published, "summary": summary, "verdicts": verdict},
            indent=2,
        ),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ("MAE", "RMSE", "R2")
    writer.writerow(
        ["model", "dataset", "task", "seed", *columns, "trainable_parameters", "seconds"]
        + ["protocol", "git_commit", "command"]
    )
    for r in rows:
        writer.writerow(
            [r["model"], r["dataset"], r["task"], r["seed"]]
            + [r["metrics"][k] for k in columns]
            + [r["trainable_parameters"], f"{r['seconds']:.1f}", r["protocol"]]
            + [r["git_commit"], r["command"]]
        )
    _write_text(out / "results.csv", buffer.getvalue())
    seeds = sorted({r["seed"] for r in rows})
    dropped = sorted({r["task"] for r in rows if r["zero_labels_dropped"]})
    lines = [
        f"Command: `{command}`",
        "",
        f"City: {city}. Protocol: {rows[0]['protocol']}. "
        f"Seeds: {', '.join(map(str, seeds))} (mean ± sample standard deviation, ddof = 1). "
        + (f"Regions with a zero label are left out of: {', '.join(dropped)}. " if dropped else "")
        + "Rows marked *published* are quoted from the HAFusion paper (its own protocol), "
        "not produced here.",
        "",
        "| task | model | MAE | RMSE | R² | trainable params | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        n = s.get("seeds", 1)
        values = " | ".join(format_value(s["metrics"][k], n, 3) for k in columns)
        params = s.get("trainable_parameters")
        seconds = s.get("seconds")
        lines.append(
            f"| {s['task']} | {s['model']} | {values} | "
            f"{'' if params is None else f'{params:,}'} | "
            f"{'' if seconds is None else f'{seconds:.0f}'} |"
        )
    if verdict:
        lines += ["", "Verdict (paired over seeds, same folds):", ""]
        lines += [f"- {line}" for line in verdict]
    _write_text(out / "results.md", "\n".join(lines) + "\n")
    return [out / name for name in FILES], summary
