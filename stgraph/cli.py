"""The ``stgraph`` command line: thin wrappers that parse, validate, call the library, render.

Bad input never shows a traceback: every :class:`~stgraph.errors.InputError` becomes one line
``error: ...`` on standard error and exit status 2, and no output file is written. A warning
raised while a command runs becomes one line ``warning: ...`` on standard error.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from stgraph import __version__
from stgraph.data.protocol import Protocol
from stgraph.errors import InputError

app = typer.Typer(
    help="Graph learning on PyTorch Geometric for spatio-temporal and urban data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="List, describe and fetch the built-in datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Dataset folder (default: $STGRAPH_DATA, else ~/.cache/stgraph)."
    ),
]


def fail(message: str) -> NoReturn:
    """Print one error line and exit with status 2."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


def reports_input_errors(command: F) -> F:
    """Turn :class:`InputError` raised by ``command`` into one line and exit status 2, and
    each distinct warning it raises into one line."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        shown: set[str] = set()

        def warn(message: Warning | str, *_args, **_kwargs) -> None:  # as warnings.showwarning
            if str(message) not in shown:
                shown.add(str(message))
                err_console.print(f"warning: {message}", markup=False)

        with warnings.catch_warnings():
            warnings.showwarning = warn
            try:
                return command(*args, **kwargs)
            except InputError as err:
                fail(str(err))

    return wrapper  # type: ignore[return-value]


PIPE_WIDTH = 240
"""Columns used for tables when standard output is not a terminal (a pipe or a log file has
no width; rich would otherwise assume 80 and cut numbers)."""


def print_table(table: Table) -> None:
    """Print ``table`` in full: at the terminal's width, or wide enough when piped."""
    if console.is_terminal:
        console.print(table)
    else:
        Console(width=PIPE_WIDTH).print(table)


def _stage_progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@app.command("build-graph")
@reports_input_errors
def build_graph_command(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT", help="Point table (CSV/GeoJSON), edge list, matrix or polygons."
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output .pt file.")],
    ids: Annotated[
        Path | None,
        typer.Option(help="Node order: an ids file or a point table (its coordinates become pos)."),
    ] = None,
    knn: Annotated[int | None, typer.Option(help="K nearest neighbours per node.")] = None,
    radius: Annotated[
        float | None, typer.Option(help="Connect pairs closer than this (km for lat/lon).")
    ] = None,
    gaussian: Annotated[
        bool, typer.Option(help="DCRNN thresholded Gaussian kernel exp(-(d/sigma)^2).")
    ] = False,
    threshold: Annotated[
        float | None, typer.Option(help="Kernel threshold epsilon (default 0.1).")
    ] = None,
    sigma: Annotated[
        float | None, typer.Option(help="Kernel width (default: std of the distances).")
    ] = None,
    od: Annotated[bool, typer.Option(help="INPUT is an origin-destination flow matrix.")] = False,
    input_kind: Annotated[
        str, typer.Option(help="auto, points, edges, matrix, od or polygons.")
    ] = "auto",
    id_col: Annotated[str | None, typer.Option(help="Id column / property.")] = None,
    lat_col: Annotated[str | None, typer.Option(help="Latitude column.")] = None,
    lon_col: Annotated[str | None, typer.Option(help="Longitude column.")] = None,
    x_col: Annotated[str | None, typer.Option(help="Projected x column.")] = None,
    y_col: Annotated[str | None, typer.Option(help="Projected y column.")] = None,
    centrality: Annotated[
        str | None,
        typer.Option(help="Comma list: degree,weighted_degree,pagerank,betweenness,closeness."),
    ] = None,
    max_hops: Annotated[
        int | None, typer.Option(help="Add shortest-path hop counts up to this many hops.")
    ] = None,
) -> None:
    """Build a PyG graph from coordinates, distances, a matrix or polygons and save it."""
    from stgraph.data.build import BuildOptions, build_graph
    from stgraph.data.io import save_graph, writable_target

    writable_target(output)
    options = BuildOptions(
        input_kind=input_kind,
        ids=ids,
        knn=knn,
        radius=radius,
        gaussian=gaussian,
        threshold=threshold,
        sigma=sigma,
        od=od,
        id_col=id_col,
        lat_col=lat_col,
        lon_col=lon_col,
        x_col=x_col,
        y_col=y_col,
        max_hops=max_hops,
        centrality=[c.strip() for c in centrality.split(",") if c.strip()] if centrality else [],
    )
    with _stage_progress() as progress:
        progress.add_task(f"building graph from {input_path.name}", total=None)
        data, notes = build_graph(input_path, options)
        progress.add_task(f"writing {output}", total=None)
        save_graph(data, output)
    for note in notes:
        err_console.print(f"note: {note}", markup=False)
    table = Table(title=f"{output}", show_header=False)
    table.add_row("nodes", str(data.num_nodes))
    table.add_row("edges", str(data.num_edges))
    table.add_row("attributes", ", ".join(sorted(k for k in data.keys() if k != "node_id")))
    print_table(table)


def _size(num_bytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if num_bytes < 1024 or unit == "GiB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return ""


@data_app.command("list")
@reports_input_errors
def data_list(data_dir: DataDirOption = None) -> None:
    """List every built-in dataset with its shape, size on disk and whether it is present."""
    from stgraph.data.paths import resolve_data_dir
    from stgraph.data.registry import DATASETS

    root = resolve_data_dir(data_dir)
    table = Table(title=f"datasets in {root}")
    for column in ("name", "kind", "shape", "size", "status"):
        table.add_column(column)
    for spec in DATASETS.values():
        status = spec.status(root)
        style = {"present": "green", "graph only": "yellow"}.get(status, "red")
        table.add_row(
            spec.name,
            spec.kind,
            spec.shape,
            _size(spec.size_bytes(root)),
            f"[{style}]{status}[/{style}]",
        )
    print_table(table)


@data_app.command("info")
@reports_input_errors
def data_info(name: str, data_dir: DataDirOption = None) -> None:
    """Describe a dataset: files, sources, license, protocol and, if present, its shapes."""
    from stgraph.data.paths import resolve_data_dir
    from stgraph.data.recipes import load_recipe
    from stgraph.data.registry import get_spec

    spec = get_spec(name)
    root = resolve_data_dir(data_dir)
    recipe = load_recipe(name)
    console.print(f"[bold]{spec.name}[/bold] ({spec.kind}): {spec.summary}")
    console.print(f"shape: {spec.shape}    status: {spec.status(root)}    folder: {root}")
    files = Table("file", "present", "bytes", "license", "source")
    for entry in recipe.files:
        present = (root / entry.path).exists()
        files.add_row(
            entry.path,
            "yes" if present else "no",
            str(entry.size or "?"),
            entry.license or "-",
            entry.source or entry.note,
        )
    console.print(files)
    if recipe.protocol:
        console.print(
            "protocol: "
            + ", ".join(f"{k}={v}" for k, v in recipe.protocol.items() if v not in (None, ""))
        )
    if spec.status(root) == "present":
        loaded = spec.loader(root)
        console.print(f"loaded: {loaded!r}")


@data_app.command("check")
@reports_input_errors
def data_check(path: Path) -> None:
    """Check a temporal folder of your own: shape, period, missing share, graph coverage."""
    from stgraph.data.temporal_folder import check_report, load_temporal_folder

    signal = load_temporal_folder(path)
    table = Table(title=f"temporal folder {path}")
    table.add_column("what")
    table.add_column("found")
    for what, found in check_report(signal):
        table.add_row(what, found)
    print_table(table)


@data_app.command("fetch")
@reports_input_errors
def data_fetch(
    name: str,
    data_dir: DataDirOption = None,
    recipe_file: Annotated[
        Path | None,
        typer.Option("--recipe", help="Use this recipe file instead of the built-in one."),
    ] = None,
    allow_unverified: Annotated[
        bool, typer.Option(help="Also download files that have no published checksum.")
    ] = False,
) -> None:
    """Download a dataset's files, verifying size and sha256, with an atomic move into place."""
    from stgraph.data.paths import resolve_data_dir
    from stgraph.data.recipes import fetch, load_recipe

    recipe = load_recipe(recipe_file if recipe_file is not None else name)
    if recipe.name != name:
        fail(f"recipe {recipe_file} is for '{recipe.name}', not '{name}'")
    root = resolve_data_dir(data_dir)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[str, int] = {}

        def hook(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done)

        results = fetch(recipe, root, allow_unverified=allow_unverified, progress=hook)
    for result in results:
        console.print(f"{result.action:>10}  {result.path}  {result.detail}".rstrip(), markup=False)


def _seeds(first: list[int] | None, extra: list[str]) -> list[int]:
    """``--seeds 0 1 2``: Typer gives the first value, the rest arrive as extra arguments."""
    seeds = list(first or [0])
    for value in extra:
        if not value.lstrip("-").isdigit() or first is None:
            fail(f"unexpected argument '{value}'")
        seeds.append(int(value))
    return seeds


def _list_pairs() -> None:
    from stgraph.bench.specs import pairs
    from stgraph.data.recipes import load_recipe

    table = Table(title="stgraph bench: model x dataset pairs")
    for column in ("model", "dataset", "task", "protocol"):
        table.add_column(column)
    for model, dataset in pairs():
        if dataset.files:
            protocol = load_recipe(dataset.name).protocol
            described = (
                Protocol.from_dict(protocol).describe()
                if model.task == "forecasting"
                else protocol.get("note", "")
            )
        else:
            described = "synthetic: 12->12, 7:1:2, nothing missing"
        table.add_row(model.name, dataset.name, model.task, described)
    print_table(table)


def _results_table(summary: list[dict]) -> Table:
    from stgraph.bench.results import format_value, metric_names, step_labels

    names = metric_names(summary)
    table = Table(title="test results (mean ± sample std over seeds)")
    for column in ("model", "step", *names, "params", "s/epoch"):
        table.add_column(column, justify="left" if column in ("model", "step") else "right")
    for s in summary:
        seeds = len(s["seeds"])
        for index, step in enumerate(step_labels(s)):
            suffix = "" if step == "avg" else f"@{step}"
            table.add_row(
                s["model"] if index == 0 else "",
                step,
                *[format_value(s["metrics"][n + suffix], seeds, 3, "±") for n in names],
                f"{s['trainable_parameters']:,}" if index == 0 else "",
                f"{s['seconds_per_epoch']:.2f}" if index == 0 else "",
            )
    return table


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@reports_input_errors
def bench(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option(help="Model name, or several separated by commas (see --list).")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset name (see --list).")] = None,
    seeds: Annotated[
        list[int] | None,
        typer.Option(help="Seeds, e.g. --seeds 0 1 2 (mean ± std); default 0 (regions: 0 1 2)."),
    ] = None,
    epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = 50,
    batch_size: Annotated[int, typer.Option(help="Global batch size.")] = 64,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 2e-3,
    patience: Annotated[int, typer.Option(help="Early-stopping patience (epochs).")] = 10,
    device: Annotated[
        str,
        typer.Option(
            help="Where training runs: auto (a GPU when PyTorch sees one, else the CPU), cpu, "
            "cuda or cuda:K."
        ),
    ] = "auto",
    precision: Annotated[
        str, typer.Option(help="fp32, or bf16 for bfloat16 autocast of the forward pass.")
    ] = "fp32",
    loss: Annotated[
        str, typer.Option(help="Training loss: mae (DCRNN convention) or mse (LTSF convention).")
    ] = "mae",
    stage: Annotated[
        str | None,
        typer.Option(
            help="Training stage of a pretrain-then-adapt model (pretrain, pt-tuning, "
            "prompt-tune, tiny-prompt, linear-probe, finetune, supervised; see --list). "
            "Default: the model's full chain."
        ),
    ] = None,
    init: Annotated[
        Path | None,
        typer.Option(help="Stage checkpoint to start from (written by a pretrain run)."),
    ] = None,
    history: Annotated[
        int | None, typer.Option(help="Input steps, replacing the dataset protocol's.")
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(help="Forecast steps, replacing the dataset protocol's.")
    ] = None,
    backbone: Annotated[
        Path | None,
        typer.Option(
            help="st-link / st-llm: local Hugging Face folder of the pretrained transformer "
            "(BERT or GPT-2 family; default: the packaged all-MiniLM-L6-v2)."
        ),
    ] = None,
    unfrozen_layers: Annotated[
        int,
        typer.Option(help="st-link / st-llm: top backbone blocks whose attention trains (U)."),
    ] = 2,
    prompt_tokens: Annotated[
        int, typer.Option(help="promptst: prompts per layer of the prompt-tune stage (P).")
    ] = 2,
    patch_len: Annotated[int, typer.Option(help="pt-tuning: steps a patch holds (p).")] = 12,
    patch_stride: Annotated[
        int | None,
        typer.Option(help="pt-tuning: steps between patch starts (default: the patch length)."),
    ] = None,
    boundary: Annotated[
        str | None,
        typer.Option(
            help="Windows whose targets straddle a split boundary: drop (every part's targets "
            "inside it) or straddle (kept, DCRNN's convention); default: the dataset "
            "protocol's, drop unless its recipe says otherwise."
        ),
    ] = None,
    node_batch_size: Annotated[
        int | None,
        typer.Option(
            help="Large graphs: train and score on parts of this many nodes with their "
            "neighbourhood (stid, st-transformer-bias-sparse); default: the whole graph."
        ),
    ] = None,
    holdout_attributes: Annotated[
        str | None,
        typer.Option(
            help="Multi-attribute data: attributes (names or 0-based indices, comma separated) "
            "kept out of pretraining; every later stage trains on them alone."
        ),
    ] = None,
    per_attribute: Annotated[
        bool,
        typer.Option(
            help="Multi-attribute data: every stage after pretraining trains one model per "
            "attribute (merged into one row)."
        ),
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for results and checkpoints.")] = Path(
        "runs/bench"
    ),
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoints in --out.")] = False,
    plot: Annotated[bool, typer.Option(help="Also write forecast-vs-truth PNGs.")] = False,
    list_pairs: Annotated[
        bool, typer.Option("--list", help="List every model x dataset pair with its protocol.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    quiet: Annotated[
        bool,
        typer.Option(
            help="Print nothing but errors: no progress, no table (the files are written)."
        ),
    ] = False,
    data_dir: DataDirOption = None,
    city: Annotated[
        str | None,
        typer.Option(
            help="Region task: a built-in city (chicago, nyc) or a city folder PATH with "
            "views/*.npy, labels/*.npy and optional mobility.npy, similarity/*.npy, "
            "coords.csv (id,lat,lon), contiguity.csv (from,to), tasks.json "
            '({"task": {"drop_zero_labels": true}}).'
        ),
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(help="Region tasks, comma separated (default: all labels of the city)."),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            help="Forecasting: a named protocol of the dataset's recipe (e.g. st-llm on "
            "nyc-flows-*; default: the dataset's own). Region tasks: 'clean' (selection inside "
            "training folds, the default) or 'paper' (HAFusion's test-fold selection)."
        ),
    ] = None,
    folds: Annotated[int, typer.Option(help="Region tasks: cross-validation folds.")] = 10,
    encoder_epochs: Annotated[
        int, typer.Option(help="Region tasks: self-supervised epochs of each SREL encoder.")
    ] = 300,
    text_encoder: Annotated[
        Path | None,
        typer.Option(
            help="Region tasks: local Hugging Face encoder folder for the prompts "
            "(default: the packaged all-MiniLM-L6-v2)."
        ),
    ] = None,
    prompt_vectors: Annotated[
        str | None,
        typer.Option(
            help="Region tasks: precomputed prompt vectors, a .npy path pattern with {task}, "
            "e.g. prompt_embs_llama_{task}.npy."
        ),
    ] = None,
) -> None:
    """Train and evaluate a model on a dataset under the dataset's protocol; save results."""
    if list_pairs:
        _list_pairs()
        return
    progress = progress and not quiet
    from stgraph.bench.attributes import AttributePlan, part_slug
    from stgraph.bench.published_forecasts import as_quoted, published_forecasts
    from stgraph.bench.results import output_folder, summarise, write_results
    from stgraph.bench.runner import (
        RunOptions,
        git_commit,
        load_forecast_data,
        merge_attribute_rows,
        run_forecast,
        stage_checkpoint,
        stage_plan,
    )
    from stgraph.bench.specs import ModelOptions, check_pair, get_model
    from stgraph.data.registry import dataset_label, get_spec
    from stgraph.engine.distributed import init_from_env, shutdown

    git_commit()  # the code this run imported, named in every row
    regions = city is not None or (model == "topt" and dataset is not None)
    if regions:
        _reject_flags(ctx, FORECAST_FLAGS, "forecasting runs (--dataset)")
    else:
        _reject_flags(ctx, REGION_FLAGS, "region tasks (--city)")
    if regions:
        _bench_regions(
            model,
            city or dataset,
            _seeds(seeds, ctx.args) if seeds else [0, 1, 2],
            tasks,
            protocol,
            folds,
            encoder_epochs,
            text_encoder,
            prompt_vectors,
            out,
            progress,
            data_dir,
            quiet,
        )
        return
    if model is None or dataset is None:
        fail("give --model and --dataset (or --model topt --city NAME, or --list)")
    seed_list = _seeds(seeds, ctx.args)
    model_names = [name.strip() for name in model.split(",") if name.strip()]
    plans = {}
    for name in model_names:
        check_pair(get_model(name), get_spec(dataset))
        plans[name] = stage_plan(get_model(name), stage, init)
    if per_attribute and any(_splits_early(plan) for plan in plans.values()):
        fail("--per-attribute splits only the last stage of a chain; choose one with --stage")
    for flag in MODEL_FLAGS:
        if _given(ctx, flag) and not any(flag in get_model(n).reads for n in model_names):
            fail(f"--{flag.replace('_', '-')} applies to none of the chosen models")
    if epochs < 1:
        fail(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        fail(f"--batch-size must be at least 1, got {batch_size}")
    if prompt_tokens < 1:
        fail(f"--prompt-tokens must be at least 1, got {prompt_tokens}")
    if node_batch_size is not None and node_batch_size < 1:
        fail(f"--node-batch-size must be at least 1, got {node_batch_size}")
    from stgraph.engine.device import check_precision

    context = init_from_env(device)
    check_precision(precision, context.device)
    options = RunOptions(
        precision=precision,
        loss=loss,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        resume=resume,
        node_batch_size=node_batch_size,
        progress=progress and context.is_main,
        model_options=ModelOptions(
            backbone=backbone,
            unfrozen_layers=unfrozen_layers,
            prompt_tokens=prompt_tokens,
            patch_len=patch_len,
            patch_stride=patch_stride,
        ),
        data_dir=data_dir,
        out=out,
        command=_command_line(),
    )
    signal = load_forecast_data(dataset, data_dir, history, horizon, protocol, boundary)
    held_out = None
    if holdout_attributes is not None:
        held_out = [name.strip() for name in holdout_attributes.split(",") if name.strip()]
    attributes = AttributePlan.choose(signal, held_out, per_attribute)
    rows = []
    with output_folder(out, create=context.is_main):
        try:
            for name in model_names:
                for seed in seed_list:
                    start_from = init
                    for step in plans[name]:
                        runs = []
                        for part_signal, part in attributes.parts(signal, step):
                            row, trainer, test = run_forecast(
                                name, dataset, seed, options, context, part_signal, step,
                                start_from, part,
                            )  # fmt: skip
                            runs.append(row)
                            if plot and context.is_main:
                                from stgraph.bench.plots import plot_forecasts

                                suffix = f"-{step.name}" if step else ""
                                label = dataset_label(dataset) + part_slug(part)
                                png = out / f"forecast-{name}{suffix}-{label}-seed{seed}.png"
                                plot_forecasts(trainer, test, png)
                        if attributes.splits(step):
                            merged = attributes.merged_part(signal, step)
                            rows.append(
                                merge_attribute_rows(runs, signal.protocol, dataset, merged)
                            )
                        else:
                            rows.extend(runs)
                        if step is not None and not attributes.splits(step):
                            start_from = stage_checkpoint(out, name, dataset, seed, step.name, part)
        finally:
            shutdown(context)
        if not context.is_main:
            return
        published = published_forecasts(dataset_label(dataset), signal.protocol.output_len)
        files = write_results(out, rows, options.command, published)
    if quiet:
        return
    console.print(f"protocol: {rows[0]['protocol']} ({rows[0]['horizon_note']})", highlight=False)
    print_table(_results_table(summarise(rows)))
    for row in published:
        console.print(
            f"published (quoted, not run here): {row['model']}, {row['history']} -> "
            f"{row['horizon']}: MSE {as_quoted(row['MSE'])}, MAE {as_quoted(row['MAE'])}",
            highlight=False,
        )
    console.print("wrote " + ", ".join(str(f) for f in files), highlight=False)


def _splits_early(plan: list) -> bool:
    """Whether a stage other than ``pretrain`` comes before the last of ``plan`` (its
    per-attribute models would have to seed the next stage)."""
    return any(step is not None and step.name != "pretrain" for step in plan[:-1])


REGION_FLAGS = (
    "tasks",
    "folds",
    "encoder_epochs",
    "text_encoder",
    "prompt_vectors",
)
"""Options that only region tasks read."""

FORECAST_FLAGS = (
    "epochs",
    "loss",
    "stage",
    "init",
    "history",
    "horizon",
    "batch_size",
    "lr",
    "patience",
    "device",
    "precision",
    "resume",
    "plot",
    "backbone",
    "unfrozen_layers",
    "prompt_tokens",
    "patch_len",
    "patch_stride",
    "holdout_attributes",
    "per_attribute",
    "node_batch_size",
    "boundary",
)
"""Options that only forecasting runs read."""

MODEL_FLAGS = ("backbone", "unfrozen_layers", "prompt_tokens", "patch_len", "patch_stride")
"""Options that only some forecasting models read (their spec's ``reads``)."""


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given on the command line."""
    return getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"


def _reject_flags(ctx: typer.Context, names: tuple[str, ...], only_for: str) -> None:
    """An option of ``names`` given on the command line is an error (it applies only to
    ``only_for``), not silently ignored."""
    given = [n for n in names if _given(ctx, n)]
    if given:
        fail(f"--{given[0].replace('_', '-')} applies only to {only_for}")


def _bench_regions(
    model: str | None,
    city: str,
    seeds: list[int],
    tasks: str | None,
    protocol: str | None,
    folds: int,
    encoder_epochs: int,
    text_encoder: Path | None,
    prompt_vectors: str | None,
    out: Path,
    progress: bool,
    data_dir: Path | None,
    quiet: bool,
) -> None:
    from stgraph.bench.regions import RegionBenchOptions, check_tasks, run_regions, verdicts
    from stgraph.bench.results import output_folder, write_region_results
    from stgraph.bench.specs import MODELS, get_model
    from stgraph.data.city_folder import load_city
    from stgraph.data.region_protocol import RegionProtocol

    spec = get_model(model or "topt")
    if spec.task != "regions":
        fail(
            f"model '{spec.name}' forecasts time series; region tasks (--city) take: "
            f"{', '.join(n for n, m in MODELS.items() if m.task == 'regions')}"
        )
    protocol = protocol or "clean"
    if protocol not in ("clean", "paper"):
        fail(f"unknown --protocol '{protocol}'; choose clean or paper")
    if encoder_epochs < 1:
        fail(f"--encoder-epochs must be at least 1, got {encoder_epochs}")
    region_protocol = (
        RegionProtocol.published(folds) if protocol == "paper" else RegionProtocol(folds=folds)
    )
    data = load_city(city, data_dir)  # validate the city before anything is written
    options = RegionBenchOptions(
        seeds=tuple(seeds),
        tasks=tuple(t.strip() for t in tasks.split(",")) if tasks else None,
        protocol=region_protocol,
        encoder_epochs=encoder_epochs,
        text_encoder=text_encoder,
        prompt_vectors=prompt_vectors,
        data_dir=data_dir,
        progress=progress,
        command=_command_line(),
    )
    check_tasks(data, options.tasks)
    with output_folder(out):
        rows, notes = run_regions(data, options, err_console)
        files, summary = write_region_results(out, rows, options.command)
    for note in notes:
        err_console.print(f"note: {note}", markup=False)
    if quiet:
        return
    console.print(f"protocol: {rows[0]['protocol']}", highlight=False)
    print_table(_region_table(summary))
    for line in verdicts(rows):
        console.print(line, highlight=False)
    console.print("wrote " + ", ".join(str(f) for f in files), highlight=False)


def _region_table(summary: list[dict]) -> Table:
    from stgraph.bench.results import format_value

    table = Table(title="region tasks (out-of-fold; mean ± sample std over seeds)")
    for column in ("task", "model", "MAE", "RMSE", "R2", "params", "s"):
        table.add_column(column, justify="left" if column in ("task", "model") else "right")
    last_task = None
    for s in summary:
        seeds = s.get("seeds", 1)
        table.add_row(
            s["task"] if s["task"] != last_task else "",
            s["model"],
            *[format_value(s["metrics"][k], seeds, 3, "±") for k in ("MAE", "RMSE", "R2")],
            "" if s.get("trainable_parameters") is None else f"{s['trainable_parameters']:,}",
            "" if s.get("seconds") is None else f"{s['seconds']:.0f}",
        )
        last_task = s["task"]
    return table


def _command_line() -> str:
    """The command as typed (``stgraph ...``), for result rows."""
    args = [a if " " not in a else repr(a) for a in sys.argv[1:]]
    return "stgraph " + " ".join(args)


@app.command()
def version() -> None:
    """Print the stgraph version."""
    console.print(__version__)


if __name__ == "__main__":
    app()
