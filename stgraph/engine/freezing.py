"""Freeze parameters by name pattern, per training stage, and report what is trainable.

What each stage trains is part of its definition in :data:`stgraph.engine.stages.STAGES`
(``fnmatch`` patterns on parameter names, ``None`` for everything). A model can name its own
patterns with a ``stage_patterns`` dict attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch

from torch import nn

from stgraph.engine.stages import STAGES
from stgraph.errors import InputError


@dataclass
class ParameterReport:
    """Trainable and total parameter counts."""

    trainable: int
    total: int

    @property
    def ratio(self) -> float:
        """Trainable share of all parameters."""
        return self.trainable / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.trainable:,} / {self.total:,} trainable ({100 * self.ratio:.2f}%)"


def parameter_report(model: nn.Module) -> ParameterReport:
    """Count the trainable and total parameters of ``model``."""
    params = list(model.parameters())
    return ParameterReport(
        sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
    )


def train_only(model: nn.Module, patterns: list[str] | None) -> ParameterReport:
    """Make trainable exactly the parameters matching ``patterns`` (all when ``None``)."""
    matched = False
    for name, param in model.named_parameters():
        keep = patterns is None or any(fnmatch(name, p) for p in patterns)
        matched |= keep
        param.requires_grad_(keep)
    if patterns is not None and not matched:
        raise InputError(f"no parameter matches {', '.join(patterns)}")
    return parameter_report(model)


def apply_model_freezing(model: nn.Module) -> ParameterReport:
    """Freeze ``model`` as its ``trainable_patterns`` say (nothing without them) and report."""
    if not hasattr(model, "trainable_patterns"):
        return parameter_report(model)
    return train_only(model, model.trainable_patterns)


def apply_stage(model: nn.Module, stage: str) -> ParameterReport:
    """Freeze ``model`` for ``stage`` (see the module docstring) and report the result."""
    own = getattr(model, "stage_patterns", {})
    if stage in own:
        return train_only(model, own[stage])
    if stage not in STAGES:
        raise InputError(f"unknown stage '{stage}'; choose from {', '.join(STAGES)}")
    trains = STAGES[stage].trains
    return train_only(model, None if trains is None else list(trains))
