"""Freeze parameters by name pattern, per training stage, and report what is trainable.

Stages and the parameters they train by default (``fnmatch`` patterns on parameter names):

* ``pretrain``, ``finetune`` and ``supervised`` — everything;
* ``linear-probe`` — the output head only (``head.*``);
* ``prompt-tune`` — prompts and the head (``*prompt*``, ``head.*``);
* ``pt-tuning`` — the prompts only (``*prompt``).

A model can name its own patterns with a ``stage_patterns`` dict attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch

from torch import nn

from stgraph.errors import InputError

STAGE_PATTERNS: dict[str, list[str] | None] = {
    "pretrain": None,
    "finetune": None,
    "supervised": None,
    "linear-probe": ["head.*"],
    "prompt-tune": ["*prompt*", "head.*"],
    "pt-tuning": ["*prompt"],
}


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


def apply_stage(model: nn.Module, stage: str) -> ParameterReport:
    """Freeze ``model`` for ``stage`` (see the module docstring) and report the result."""
    own = getattr(model, "stage_patterns", {})
    if stage not in STAGE_PATTERNS and stage not in own:
        raise InputError(f"unknown stage '{stage}'; choose from {', '.join(STAGE_PATTERNS)}")
    return train_only(model, own.get(stage, STAGE_PATTERNS.get(stage)))
