"""Published long-horizon forecasting figures (quoted from papers and model cards, never run
here), shown beside our own rows in a benchmark's table.

The figures live in ``published_forecasts.json``; each source names the table or model card it
was checked against and the protocol it was measured under, which is never exactly ours (a
different context length, a test loader that drops windows), so the rows are labelled
*published* and kept out of our mean ± std rows.
"""

from __future__ import annotations

import json
from importlib import resources


def published_forecasts(dataset: str, horizon: int) -> list[dict]:
    """The quoted rows for ``dataset`` at ``horizon`` (none where no source reports it): each
    with ``model``, ``source``, ``protocol``, ``history``, ``MSE`` and ``MAE`` (``None`` where
    the source gives no such figure)."""
    text = resources.files("stgraph.bench").joinpath("published_forecasts.json").read_text("utf-8")
    rows = []
    for source in json.loads(text)["sources"]:
        figures = source["rows"].get(dataset, {}).get(str(horizon))
        if figures is None:
            continue
        mse, mae = figures
        rows.append(
            {
                "model": source["model"],
                "dataset": dataset,
                "horizon": horizon,
                "history": source["history"],
                "MSE": mse,
                "MAE": mae,
                "source": source["source"],
                "protocol": source["protocol"],
            }
        )
    return rows


def published_markdown(published: list[dict]) -> list[str]:
    """Markdown lines: a table of the quoted rows (empty when there are none)."""
    if not published:
        return []
    lines = [
        "",
        "Published figures, quoted from their sources (their own protocols; not run here):",
        "",
        "| model | dataset | history -> horizon | MSE | MAE | protocol | source |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for row in published:
        mse, mae = (as_quoted(row[k]) for k in ("MSE", "MAE"))
        lines.append(
            f"| {row['model']} | {row['dataset']} | {row['history']} -> {row['horizon']} | "
            f"{mse} | {mae} | {row['protocol']} | {row['source']} |"
        )
    return lines


def as_quoted(value: float | None) -> str:
    """A quoted figure with the decimals its source prints (at least three: ``0.370``)."""
    if value is None:
        return "n/a"
    decimals = max(3, len(repr(value).partition(".")[2]))
    return f"{value:.{decimals}f}"
