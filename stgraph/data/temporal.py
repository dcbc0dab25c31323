"""A spatio-temporal signal on one static graph, and its forecasting windows.

:class:`TemporalSignal` holds the whole series once: the signal ``[T, N, F]``, the mask of
observed entries, timestamps and time-of-day / day-of-week features, and a single PyG
:class:`~torch_geometric.data.Data` graph. Windows are *indices* into it: a
:class:`WindowDataset` stores the start of each window and slices the series on demand, so
no window ever copies the graph or the series.

Splits are chronological and come from the dataset's :class:`~stgraph.data.protocol.Protocol`.
The scaler is fitted on the steps before the first validation target
(:attr:`TemporalSignal.fit_end`): no value that a validation or test window is scored on
reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Data

from stgraph.data.protocol import Protocol
from stgraph.data.scaler import StandardScaler
from stgraph.errors import InputError

SPLITS = ("train", "val", "test")
SECONDS_PER_DAY = 86_400


def time_features(
    num_steps: int, timestamps: torch.Tensor | None, steps_per_day: int | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Return ``(time_of_day in [0, 1), day_of_week in 0..6 with 0 = Monday)``.

    From ``timestamps`` (Unix seconds, UTC wall clock) when known. Without timestamps, step 0
    is taken to be Monday 00:00 and ``steps_per_day`` gives the rest (a relative calendar);
    with neither, both are ``None``.
    """
    if timestamps is not None:
        seconds = timestamps.long()
        tod = (seconds % SECONDS_PER_DAY).float() / SECONDS_PER_DAY
        dow = ((seconds // SECONDS_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday
        return tod, dow
    if steps_per_day is None:
        return None, None
    steps = torch.arange(num_steps)
    return (steps % steps_per_day).float() / steps_per_day, (steps // steps_per_day) % 7


@dataclass
class TemporalSignal:
    """A multivariate series on a static graph.

    Attributes:
        name: dataset name.
        signal: ``[T, N, F]`` float32 readings (missing entries hold any value).
        mask: ``[T, N, F]`` bool, true where a reading is observed.
        graph: the static graph (``edge_index``, ``edge_weight``, optional ``pos``...).
        protocol: the dataset's :class:`Protocol`.
        timestamps: ``[T]`` int64 Unix seconds, or ``None`` when the calendar is unknown.
        feature_names: one name per feature.
        time_of_day: ``[T]`` float in ``[0, 1)`` (or ``None``); filled in from the timestamps.
        day_of_week: ``[T]`` int64 in ``0..6`` (or ``None``).
    """

    name: str
    signal: torch.Tensor
    mask: torch.Tensor
    graph: Data
    protocol: Protocol
    timestamps: torch.Tensor | None = None
    feature_names: list[str] = field(default_factory=list)
    time_of_day: torch.Tensor | None = None
    day_of_week: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.signal.dim() != 3:
            raise InputError(
                f"{self.name}: signal must be [T, N, F], got {tuple(self.signal.shape)}"
            )
        if self.mask.shape != self.signal.shape:
            raise InputError(f"{self.name}: mask shape differs from the signal shape")
        if self.graph.num_nodes != self.signal.size(1):
            raise InputError(
                f"{self.name}: graph has {self.graph.num_nodes} nodes, "
                f"signal has {self.signal.size(1)}"
            )
        if not self.feature_names:
            self.feature_names = [f"f{i}" for i in range(self.signal.size(2))]
        if self.time_of_day is None:
            self.time_of_day, self.day_of_week = time_features(
                self.num_steps, self.timestamps, self.protocol.steps_per_day
            )

    @property
    def num_steps(self) -> int:
        """Number of time steps T."""
        return self.signal.size(0)

    @property
    def num_nodes(self) -> int:
        """Number of nodes N."""
        return self.signal.size(1)

    @property
    def num_features(self) -> int:
        """Number of features F."""
        return self.signal.size(2)

    def window_starts(self, split: str) -> torch.Tensor:
        """Start indices (first input step) of the windows of ``split`` (train/val/test)."""
        if split not in SPLITS:
            raise InputError(f"unknown split '{split}'; choose train, val or test")
        return self._split_starts()[SPLITS.index(split)]

    def _split_starts(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = self.protocol
        span = p.input_len + p.output_len
        count = self.num_steps - span + 1
        if count < 3:
            raise InputError(
                f"{self.name}: {self.num_steps} steps are too few for "
                f"{p.input_len}->{p.output_len} windows"
            )
        starts = torch.arange(count)
        if p.split_steps is not None:
            train_end, val_end, test_end = p.split_steps
            first_target = starts + p.input_len
            last_target = starts + span  # exclusive
            return (
                starts[last_target <= train_end],
                starts[(first_target >= train_end) & (last_target <= val_end)],
                starts[(first_target >= val_end) & (last_target <= test_end)],
            )
        if p.split_windows is not None:
            n_val, n_test = p.split_windows
            n_train = count - n_val - n_test
        else:
            n_train = round(count * p.split[0])
            n_test = round(count * p.split[2])
            n_val = count - n_train - n_test
        if min(n_train, n_val, n_test) < 1:
            raise InputError(f"{self.name}: the split leaves an empty part ({count} windows)")
        train, val, test = (
            starts[:n_train],
            starts[n_train : n_train + n_val],
            starts[n_train + n_val :],
        )
        if p.boundary == "drop":  # every target of a part inside it
            train = train[train + span <= val[0] + p.input_len]
            val = val[val + span <= test[0] + p.input_len]
            if len(train) == 0 or len(val) == 0:
                raise InputError(
                    f"{self.name}: the split leaves an empty part ({count} windows, "
                    f"{p.output_len - 1} before each boundary dropped as their targets cross it)"
                )
        return train, val, test

    @property
    def fit_end(self) -> int:
        """First step that is a validation target; scalers only see the steps before it."""
        return int(self.window_starts("val")[0]) + self.protocol.input_len

    def fit_scaler(self) -> StandardScaler:
        """A :class:`StandardScaler` fitted on the observed values of steps ``[0, fit_end)``,
        per feature or per node and feature as the protocol says."""
        end = self.fit_end
        per_node = self.protocol.scaler == "node"
        return StandardScaler().fit(self.signal[:end], self.mask[:end], per_node=per_node)

    def feature_index(self, names: list[str]) -> list[int]:
        """Positions of the features ``names`` (each a feature name or its 0-based index)."""
        positions = []
        for name in names:
            if name in self.feature_names:
                positions.append(self.feature_names.index(name))
            elif name.isdigit() and int(name) < self.num_features:
                positions.append(int(name))
            else:
                raise InputError(
                    f"{self.name} has no attribute '{name}'; its attributes: "
                    f"{', '.join(self.feature_names)} (or 0..{self.num_features - 1})"
                )
        if len(set(positions)) < len(positions):
            raise InputError(f"an attribute is named twice in {', '.join(names)}")
        return positions

    def select_features(self, positions: list[int]) -> TemporalSignal:
        """The same series with only the features at ``positions``, in that order."""
        index = torch.as_tensor(positions, dtype=torch.long)
        return replace(
            self,
            signal=self.signal.index_select(2, index),
            mask=self.mask.index_select(2, index),
            feature_names=[self.feature_names[i] for i in positions],
        )

    def windows(self, split: str, scaler: StandardScaler | None = None) -> WindowDataset:
        """The windows of ``split`` as a dataset; inputs are scaled with ``scaler`` if given."""
        return WindowDataset(self, self.window_starts(split), scaler)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.name}, steps={self.num_steps}, "
            f"nodes={self.num_nodes}, features={self.num_features}, "
            f"edges={self.graph.num_edges})"
        )


class WindowDataset(Dataset):
    """Forecasting windows of a :class:`TemporalSignal`, addressed by index.

    Item ``i`` (or :meth:`gather` for many at once) is a dict with

    * ``x`` ``[L_in, N, F]`` inputs (scaled when a scaler is given; missing entries set to 0
      after scaling; computed per batch, never for the whole series), ``x_mask``
      ``[L_in, N, F]``,
    * ``y`` ``[L_out, N, F]`` targets in original units, ``y_mask`` ``[L_out, N, F]`` (true
      where the target is observed and scored, see :attr:`Protocol.score_above`),
    * ``x_time`` ``[L_in, 2]`` and ``y_time`` ``[L_out, 2]``: time of day and day of week
      (zeros when the dataset has no calendar),
    * ``start``: the window's first input step.

    The graph is :attr:`graph`, shared by every window.
    """

    def __init__(
        self, source: TemporalSignal, starts: torch.Tensor, scaler: StandardScaler | None = None
    ) -> None:
        self.source = source
        self.starts = starts
        self.scaler = scaler
        self.graph = source.graph
        above = source.protocol.score_above
        self._scored = source.mask if above is None else source.mask & (source.signal > above)
        if source.time_of_day is not None:
            self._time = torch.stack(
                [source.time_of_day.float(), source.day_of_week.float()], dim=-1
            )
        else:
            self._time = torch.zeros(source.num_steps, 2)

    def __len__(self) -> int:
        return self.starts.numel()

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        batch = self.gather(torch.tensor([index]))
        return {key: value[0] for key, value in batch.items()}

    def _inputs(self, steps: torch.Tensor, nodes: torch.Tensor | None) -> torch.Tensor:
        """The readings at ``steps`` (of ``nodes``), scaled, missing entries 0: computed per
        batch, so the series is never copied whole (it may be a memory-mapped file)."""
        values = _take(self.source.signal, steps, nodes)
        if self.scaler is not None:
            scaler = self.scaler if nodes is None else self.scaler.for_nodes(nodes)
            values = scaler.transform(values)
        mask = _take(self.source.mask, steps, nodes)
        return torch.where(mask, values, torch.zeros_like(values))

    def target_count(self, indices: torch.Tensor, nodes: torch.Tensor | None = None) -> int:
        """Number of scored target entries in the windows at ``indices`` (at ``nodes``)."""
        p = self.source.protocol
        steps = self.starts[indices][:, None] + p.input_len + torch.arange(p.output_len)
        return int(_take(self._scored, steps, nodes).sum())

    def gather(
        self, indices: torch.Tensor, nodes: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Stack the windows at ``indices`` (positions in this dataset) along a batch dim;
        with ``nodes`` (global ids), only those nodes' readings are read."""
        p = self.source.protocol
        starts = self.starts[indices]
        x_steps = starts[:, None] + torch.arange(p.input_len)
        y_steps = starts[:, None] + p.input_len + torch.arange(p.output_len)
        return {
            "x": self._inputs(x_steps, nodes),
            "x_mask": _take(self.source.mask, x_steps, nodes),
            "y": _take(self.source.signal, y_steps, nodes),
            "y_mask": _take(self._scored, y_steps, nodes),
            "x_time": self._time[x_steps],
            "y_time": self._time[y_steps],
            "start": starts,
        }


def _take(series: torch.Tensor, steps: torch.Tensor, nodes: torch.Tensor | None) -> torch.Tensor:
    """``series[steps]`` ``[B, L, N, F]``, of ``nodes`` only when given (read directly, never
    all nodes first)."""
    if nodes is None:
        return series[steps]
    return series[steps[:, :, None], nodes[None, None, :]]
