"""The training loop for forecasting models: early stopping on validation, checkpoints, resume,
data parallelism.

A forecasting model is an ``nn.Module`` whose ``forward(batch)`` takes a dict from
:meth:`~stgraph.data.WindowDataset.gather` and returns predictions ``[B, L_out, N, F]`` in the
scaler's units; the trainer maps them back to original units (or, where the protocol scores
standardised values, keeps them there) and minimises the masked MAE (the DCRNN/BasicTS
convention) or MSE in that space. A model with an auxiliary objective (a mixture of experts'
load-balancing loss) leaves it, already weighted, in its ``auxiliary_loss`` attribute after
each forward pass; the trainer adds it to the training loss. Every epoch:

1. the windows are shuffled by a generator seeded with ``(seed, epoch)`` and cut into global
   batches; under ``torchrun`` rank ``r`` takes ``batch[r::world_size]`` and the loss is
   normalised by the *global* batch's observed count, so the averaged gradient equals the
   single-process one;
2. dropout and other randomness are seeded with ``(seed, epoch)``;
3. the validation set is scored with :class:`~stgraph.engine.metrics.ForecastMetrics`
   (sums reduced over all ranks); the best state by validation MAE is kept, and training
   stops after ``patience`` epochs without improvement;
4. rank 0 writes ``last.pt`` atomically: model, optimiser, scheduler, best state, counters.

Because every source of randomness is derived from ``(seed, epoch)`` and all state is in the
checkpoint, a run killed after any epoch and resumed ends with the same weights and metrics as
an uninterrupted run (on CPU; GPU kernels may add non-determinism); a checkpoint written with
other training settings (:data:`RESUME_SETTINGS`) is refused. The model, each batch and
the metrics live on the context's device (:mod:`stgraph.engine.device`). The test set is never
looked at here.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from stgraph.data.io import atomic_torch_save
from stgraph.data.scaler import StandardScaler
from stgraph.data.temporal import WindowDataset
from stgraph.engine.device import autocast, check_precision, to_device
from stgraph.engine.distributed import Context, all_reduce_sum
from stgraph.engine.metrics import ForecastMetrics, masked_mae_loss, masked_mse_loss
from stgraph.engine.node_batches import (
    NodeBatcher,
    NodePart,
    check_node_batch_size,
    receptive_hops,
)
from stgraph.errors import InputError

CHECKPOINT_NAME = "last.pt"
LOSSES = {"mae": masked_mae_loss, "mse": masked_mse_loss}
OBJECTIVES = ("forecast", "reconstruct")
VALIDATION_MASK_SEED = 20_231_107


def _with_scaled_targets(
    windows: WindowDataset, batch: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The batch plus its targets in the inputs' units (``y_scaled``; missing entries 0, as in
    the inputs), for self-supervised objectives that read the whole training window."""
    y = windows.scaler.transform(batch["y"]) if windows.scaler is not None else batch["y"]
    return {**batch, "y_scaled": torch.where(batch["y_mask"], y, torch.zeros_like(y))}


class ReconstructionTask(nn.Module):
    """``forward(batch)`` is the model's pretraining loss, so that data parallelism wraps a
    forward pass (DistributedDataParallel synchronises gradients only through ``forward``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The mean reconstruction loss of the batch."""
        return self.model.reconstruction_loss(batch)


@dataclass
class TrainConfig:
    """Settings of :class:`Trainer`.

    Attributes:
        epochs: maximum number of epochs (default: ``50``).
        batch_size: global batch size (default: ``64``).
        eval_batch_size: batch size for scoring (default: ``None``: the training batch size,
            so that one setting bounds the memory of both; scores do not depend on it).
        lr: AdamW learning rate (default: ``2e-3``).
        weight_decay: AdamW weight decay (default: ``1e-4``).
        clip_grad: gradient-norm clipping, ``None`` for none (default: ``5.0``).
        patience: epochs without validation improvement before stopping (default: ``10``).
        scheduler: ``"cosine"`` (to zero over ``epochs``) or ``"none"`` (default: ``"cosine"``).
        seed: seed of initialisation, shuffling and dropout (default: ``0``).
        checkpoint_dir: where ``last.pt`` is written every epoch (default: ``None``, nowhere).
        resume: continue from ``checkpoint_dir/last.pt`` if it exists (default: ``False``).
        progress: show a progress bar on rank 0 (default: ``True``).
        precision: ``"fp32"``, or ``"bf16"`` for bfloat16 autocast of the forward pass (the
            loss and the metrics stay in fp32) (default: ``"fp32"``).
        loss: masked ``"mae"`` (the DCRNN/BasicTS convention) or ``"mse"`` (the LTSF one),
            in the space the protocol scores (default: ``"mae"``).
        objective: ``"forecast"``, or ``"reconstruct"`` for self-supervised pretraining: the
            model's ``reconstruction_loss(batch)`` is minimised (the batch also carries its
            targets in the inputs' units, ``y_scaled``), and selection uses the same loss on
            the validation windows with masks drawn from a fixed seed (default: ``"forecast"``).
        node_batch_size: train and score on parts of this many seed nodes with their halo
            (:mod:`stgraph.engine.node_batches`), each part its own optimiser step; ``None``
            for the whole graph at once (default: ``None``).
    """

    epochs: int = 50
    batch_size: int = 64
    eval_batch_size: int | None = None
    lr: float = 2e-3
    weight_decay: float = 1e-4
    clip_grad: float | None = 5.0
    patience: int = 10
    scheduler: str = "cosine"
    seed: int = 0
    checkpoint_dir: Path | None = None
    resume: bool = False
    progress: bool = True
    precision: str = "fp32"
    loss: str = "mae"
    objective: str = "forecast"
    node_batch_size: int | None = None


@dataclass
class EpochRecord:
    """What one epoch did; ``val_score`` is the validation MAE, or the validation
    reconstruction loss when pretraining."""

    epoch: int
    train_loss: float
    val_score: float
    seconds: float
    samples: int
    data_seconds: float
    metric_seconds: float


RESUME_SETTINGS = (
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "clip_grad",
    "patience",
    "scheduler",
    "seed",
    "precision",
    "loss",
    "objective",
    "node_batch_size",
)
"""The :class:`TrainConfig` fields a resumed run must share with the run it continues (the
others, such as the scoring batch size, leave the result unchanged)."""


@dataclass
class FitState:
    """Everything needed to continue training (stored in the checkpoint)."""

    epoch: int = 0
    best_val: float = math.inf
    best_epoch: int = -1
    bad_epochs: int = 0
    stopped: bool = False
    history: list[EpochRecord] = field(default_factory=list)


class Trainer:
    """Fit a forecasting model on a :class:`WindowDataset` (see the module docstring).

    Args:
        model: the forecasting model.
        config: a :class:`TrainConfig`.
        context: distributed context (default: single process).
        console: where progress and epoch lines go (default: standard error).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        context: Context | None = None,
        console: Console | None = None,
    ) -> None:
        if config.epochs < 1:
            raise InputError(f"the number of epochs must be at least 1, got {config.epochs}")
        if config.loss not in LOSSES:
            raise InputError(f"unknown loss '{config.loss}'; choose {' or '.join(LOSSES)}")
        if config.objective not in OBJECTIVES:
            raise InputError(f"unknown objective '{config.objective}'")
        if config.objective == "reconstruct" and not hasattr(model, "reconstruction_loss"):
            raise InputError(f"{type(model).__name__} has no self-supervised pretraining")
        self.hops = None
        self._node_batcher: NodeBatcher | None = None
        if config.node_batch_size is not None:
            if config.objective != "forecast":
                raise InputError("node mini-batches are for forecasting, not for pretraining")
            check_node_batch_size(config.node_batch_size)
            self.hops = receptive_hops(model)
        self.context = context or Context()
        self.device = self.context.device
        check_precision(config.precision, self.device)
        self.model = model.to(self.device)
        self.config = config
        self.console = console or Console(stderr=True)
        self.state = FitState()
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = (
            torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
            if trainable
            else None
        )
        self.scheduler = None
        if self.optimizer is not None and config.scheduler == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
                self.optimizer, T_max=config.epochs
            )
        self.task = model if config.objective == "forecast" else ReconstructionTask(model)
        self.network = self.task
        if self.context.distributed and trainable:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = DistributedDataParallel(self.task, device_ids=ids)
        self._best_state: dict | None = None

    @property
    def _eval_batch_size(self) -> int:
        return self.config.eval_batch_size or self.config.batch_size

    @property
    def checkpoint_path(self) -> Path | None:
        """``checkpoint_dir/last.pt``, or ``None`` without a checkpoint folder."""
        if self.config.checkpoint_dir is None:
            return None
        return Path(self.config.checkpoint_dir) / CHECKPOINT_NAME

    def _save(self) -> None:
        path = self.checkpoint_path
        if path is None or not self.context.is_main:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_torch_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict() if self.optimizer else None,
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "best_state": self._best_state,
                "state": asdict(self.state),
                "config": self._config_record(),
            },
            path,
        )

    def _config_record(self) -> dict[str, str]:
        """The training settings as a checkpoint records them (every field as text)."""
        return {k: str(v) for k, v in asdict(self.config).items()}

    def _load(self) -> bool:
        path = self.checkpoint_path
        if path is None or not path.exists():
            return False
        saved = torch.load(path, weights_only=False, map_location=self.device)
        own = self._config_record()
        for key in RESUME_SETTINGS:  # a setting older checkpoints lack is not compared
            if saved["config"].get(key, own[key]) != own[key]:
                raise InputError(
                    f"{path} was written by a run with {key}={saved['config'][key]}, this "
                    f"run has {key}={own[key]}: resuming would mix the two; write to another "
                    "folder or start afresh"
                )
        self.model.load_state_dict(saved["model"])
        if self.optimizer is not None:
            self.optimizer.load_state_dict(saved["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        self._best_state = saved["best_state"]
        state = saved["state"]
        state["history"] = [EpochRecord(**r) for r in state["history"]]
        self.state = FitState(**state)
        return True

    def _batcher(self, windows: WindowDataset) -> NodeBatcher | None:
        """The node batcher of ``windows``' graph (kept, so scoring reuses its parts), or
        ``None`` without node batches."""
        if self.config.node_batch_size is None:
            return None
        nodes = windows.source.num_nodes
        if self._node_batcher is None or self._node_batcher.num_nodes != nodes:
            edges = getattr(self.model, "edge_index", None) if self.hops else None
            self._node_batcher = NodeBatcher(nodes, self.config.node_batch_size, self.hops, edges)
        return self._node_batcher

    def _train_parts(self, windows: WindowDataset, seed: int) -> Iterator[NodePart | None]:
        """The node parts of one training step, drawn from ``seed`` one at a time (``None``:
        the whole graph)."""
        batcher = self._batcher(windows)
        return iter([None]) if batcher is None else batcher.train_parts(seed)

    def _eval_parts(self, windows: WindowDataset) -> list[NodePart | None]:
        """The fixed node parts that scoring walks (``[None]``: the whole graph)."""
        batcher = self._batcher(windows)
        return [None] if batcher is None else batcher.eval_parts()

    def _batch(
        self, windows: WindowDataset, indices: torch.Tensor, part: NodePart | None
    ) -> dict[str, torch.Tensor]:
        """The windows at ``indices`` (of ``part``'s nodes) on the device."""
        if part is None:
            return to_device(windows.gather(indices), self.device)
        return to_device(windows.gather(indices, part.nodes) | part.batch_keys(), self.device)

    def _seed_outputs(
        self, batch: dict[str, torch.Tensor], part: NodePart | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The model's predictions (fp32, scaler units), the targets and their mask, at
        ``part``'s seed nodes (every node without a part)."""
        # a pretraining's network returns its loss; its forecasts come from the model itself
        forecaster = self.network if self.config.objective == "forecast" else self.model
        with autocast(self.device, self.config.precision):
            prediction = forecaster(batch)
        outputs = (prediction.float(), batch["y"], batch["y_mask"])
        if part is None:
            return outputs
        seeds = part.seeds.to(self.device)
        return tuple(t.index_select(2, seeds) for t in outputs)

    @staticmethod
    def _scaler(windows: WindowDataset, part: NodePart | None) -> StandardScaler | None:
        """The windows' scaler, of ``part``'s seed nodes."""
        if windows.scaler is None or part is None:
            return windows.scaler
        return windows.scaler.for_nodes(part.nodes[part.seeds])

    def _forward(
        self, windows: WindowDataset, batch: dict[str, torch.Tensor], part: NodePart | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predictions, targets (fp32) and target mask for a batch already on the device, in
        the space the protocol scores (original units, or standardised values under
        ``scaled_metrics``); of ``part``'s seed nodes only."""
        prediction, target, mask = self._seed_outputs(batch, part)
        scaler = self._scaler(windows, part)
        if scaler is None:
            return prediction, target, mask
        if windows.source.protocol.scaled_metrics:
            return prediction, scaler.transform(target), mask
        return scaler.inverse_transform(prediction), target, mask

    def predict(self, windows: WindowDataset, indices: torch.Tensor) -> torch.Tensor:
        """Predictions in original units for the windows at ``indices`` (``[B, L_out, N, F]``,
        assembled from the node parts under node batches)."""
        self.model.eval()
        source = windows.source
        out = torch.empty(len(indices), source.protocol.output_len, *source.signal.shape[1:])
        with torch.no_grad():
            for part in self._eval_parts(windows):
                prediction = self._seed_outputs(self._batch(windows, indices, part), part)[0]
                scaler = self._scaler(windows, part)
                if scaler is not None:
                    prediction = scaler.inverse_transform(prediction)
                nodes = slice(None) if part is None else part.nodes[part.seeds]
                out[:, :, nodes] = prediction.cpu()
        return out

    def evaluate(self, windows: WindowDataset) -> ForecastMetrics:
        """Masked error sums over all of ``windows`` (reduced over ranks)."""
        self.model.eval()
        protocol = windows.source.protocol
        features = windows.source.num_features if protocol.attribute_mean else 1
        metrics = ForecastMetrics(protocol.output_len, protocol.mape_threshold, features)
        shard = torch.arange(len(windows))[self.context.rank :: self.context.world_size]
        with torch.no_grad():
            for part in self._eval_parts(windows):
                for chunk in shard.split(self._eval_batch_size):
                    batch = self._batch(windows, chunk, part)
                    metrics.update(*self._forward(windows, batch, part))
        all_reduce_sum(metrics.sums, self.context)
        return metrics

    def reconstruction_error(self, windows: WindowDataset) -> float:
        """Mean pretraining loss over ``windows``, masks drawn from a fixed seed (the same
        masks at every epoch, so validation scores are comparable)."""
        self.task.eval()
        shard = torch.arange(len(windows))[self.context.rank :: self.context.world_size]
        totals = torch.zeros(2, dtype=torch.float64)
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(VALIDATION_MASK_SEED)
            for chunk in shard.split(self._eval_batch_size):
                batch = to_device(windows.gather(chunk), self.device)
                with autocast(self.device, self.config.precision):
                    loss = self.task(_with_scaled_targets(windows, batch)).float()
                totals += torch.tensor([loss.item() * len(chunk), len(chunk)], dtype=torch.float64)
        all_reduce_sum(totals, self.context)
        return (totals[0] / totals[1].clamp(min=1)).item()

    def validation_score(self, val: WindowDataset) -> float:
        """The score model selection reads on ``val`` (lower is better): the protocol's
        selection metric (attribute-averaged where it says), or the reconstruction error of a
        pretraining."""
        if self.config.objective == "reconstruct":
            return self.reconstruction_error(val)
        protocol = val.source.protocol
        name = protocol.selection_metric
        return self.evaluate(val).compute((name,), attribute_mean=protocol.attribute_mean)[name]

    def _step(
        self, train: WindowDataset, global_batch: torch.Tensor, part: NodePart | None
    ) -> tuple[float, float, float]:
        """One optimiser step on this rank's share of ``global_batch`` (of ``part``'s nodes):
        the step's loss, the count it is normalised by, and the seconds spent on data."""
        local = global_batch[self.context.rank :: self.context.world_size]
        tick = time.perf_counter()
        batch = self._batch(train, local, part)
        data_seconds = time.perf_counter() - tick
        if self.config.objective == "reconstruct":
            # each rank's mean; data parallelism averages the ranks' gradients
            count, scale = len(local), 1
            with autocast(self.device, self.config.precision):
                loss = self.network(_with_scaled_targets(train, batch)).float()
        else:
            seeds = None if part is None else part.nodes[part.seeds]
            count = max(train.target_count(global_batch, seeds), 1)
            scale = self.context.world_size
            prediction, target, mask = self._forward(train, batch, part)
            loss = LOSSES[self.config.loss](prediction, target, mask, count)
        objective = loss * scale
        auxiliary = getattr(self.model, "auxiliary_loss", None)
        if auxiliary is not None:  # each rank's own mean: ranks average their gradients
            objective = objective + auxiliary.float()
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        if self.config.clip_grad is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad)
        self.optimizer.step()
        return loss.item(), count, data_seconds

    def _epoch(self, train: WindowDataset, epoch: int, progress: Progress | None) -> EpochRecord:
        seed = self.config.seed * 100_003 + epoch
        torch.manual_seed(seed)
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
        self.model.train()
        total_loss, total_count, data_s = 0.0, 0.0, 0.0
        start = time.perf_counter()
        batches = order.split(self.config.batch_size)
        task = progress.add_task(f"epoch {epoch + 1}", total=len(batches)) if progress else None
        for index, global_batch in enumerate(batches):
            # parts one at a time: a part's subgraph is built when its step comes
            for part in self._train_parts(train, seed * 1_009 + index):
                loss, count, seconds = self._step(train, global_batch, part)
                total_loss += loss * count
                total_count += count
                data_s += seconds
            if progress is not None:
                progress.update(
                    task,
                    advance=1,
                    description=f"epoch {epoch + 1} loss {total_loss / total_count:.4f}",
                )
        if self.scheduler is not None:
            self.scheduler.step()
        seconds = time.perf_counter() - start
        if progress is not None:
            progress.remove_task(task)
        # val_score and metric_seconds are filled in by fit() after the validation pass
        return EpochRecord(
            epoch, total_loss / max(total_count, 1), math.nan, seconds, len(order), data_s, 0.0
        )

    def _score_names(self, val: WindowDataset) -> tuple[str, str]:
        """What the epoch line calls the training loss and the validation score."""
        if self.config.objective == "reconstruct":
            return "reconstruction MSE", "reconstruction MSE"
        return self.config.loss.upper(), val.source.protocol.selection_metric

    def fit(self, train: WindowDataset, val: WindowDataset) -> FitState:
        """Train with early stopping on ``val``; the model ends with its best weights."""
        if self.optimizer is None:  # nothing to learn (a fixed rule or a closed-form fit)
            return self.state
        if self.config.resume and self._load() and self.context.is_main:
            self.console.print(f"resumed from {self.checkpoint_path} at epoch {self.state.epoch}")
        show = self.config.progress and self.context.is_main
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console, transient=True, disable=not show) as bar:
            while self.state.epoch < self.config.epochs and not self.state.stopped:
                record = self._epoch(train, self.state.epoch, bar)
                tick = time.perf_counter()
                record.val_score = self.validation_score(val)
                record.metric_seconds = time.perf_counter() - tick
                improved = record.val_score < self.state.best_val
                if improved:
                    self.state.best_val, self.state.best_epoch = record.val_score, record.epoch
                    self.state.bad_epochs = 0
                    self._best_state = copy.deepcopy(self.model.state_dict())
                else:
                    self.state.bad_epochs += 1
                self.state.history.append(record)
                self.state.epoch += 1
                self.state.stopped = self.state.bad_epochs >= self.config.patience
                self._save()
                if show:
                    train_name, val_name = self._score_names(val)
                    self.console.print(
                        f"epoch {record.epoch + 1}: train {train_name} "
                        f"{record.train_loss:.4f}, val {val_name} {record.val_score:.4f}"
                        f"{' (best)' if improved else ''}, "
                        f"{record.seconds:.1f}s",
                        highlight=False,
                    )
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        # Evaluation reduces its sums itself; dropping the data-parallel wrapper releases its
        # hold on the process group, so that shutdown() really destroys the group while the
        # interpreter is alive. Kept until exit, the group's native threads were torn down
        # during interpreter finalisation and aborted the process about once in ten runs.
        self.network = self.task
        return self.state
