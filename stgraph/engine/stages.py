"""Training stages shared by the pretrain-then-adapt methods, and the checkpoints that carry
weights from one stage to the next.

A stage fixes the objective, which parameters train (:func:`~stgraph.engine.freezing.
apply_stage`, with the model's own ``stage_patterns``), and whether it starts from a
checkpoint:

=============== ================ ====================== ==========================
stage           objective        trains                 starts from
=============== ================ ====================== ==========================
``pretrain``    reconstruct      everything             fresh weights
``pt-tuning``   forecast         prompts (``*prompt``)  ``--init`` (required)
``prompt-tune`` forecast         prompts and head       ``--init`` (required)
``tiny-prompt`` forecast         prompts and head       ``--init`` (required)
``linear-probe`` forecast        the head (``head.*``)  ``--init`` (required)
``finetune``    forecast         everything             ``--init`` (required)
``supervised``  forecast         everything             fresh weights
=============== ================ ====================== ==========================

A model whose pretraining is not self-supervised names its own objective for a stage in a
``stage_objectives`` dict (PromptST pretrains by forecasting every attribute), read through
:func:`stage_objective`; ``tiny-prompt`` is ``prompt-tune`` with the model's smallest prompts.

A checkpoint (:func:`save_stage_checkpoint`) records the model's name, the configuration that
fixes its weight shapes (``model.config()``) and its weights. :func:`load_stage_checkpoint`
refuses a checkpoint of another model or another configuration, and fills every weight except
those the new stage creates fresh (the model's ``fresh_parameters``, e.g. a new head or new
prompts).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import torch
from torch import nn

from stgraph.data.io import atomic_torch_save
from stgraph.errors import InputError


@dataclass(frozen=True)
class Stage:
    """One training stage: its objective, whether it needs starting weights, and the
    parameters it trains (``fnmatch`` patterns on parameter names; ``None``: all)."""

    name: str
    objective: str
    needs_init: bool
    trains: tuple[str, ...] | None


STAGES = {
    stage.name: stage
    for stage in (
        Stage("pretrain", "reconstruct", False, None),
        Stage("pt-tuning", "forecast", True, ("*prompt",)),
        Stage("prompt-tune", "forecast", True, ("*prompt*", "head.*")),
        Stage("tiny-prompt", "forecast", True, ("*prompt*", "head.*")),
        Stage("linear-probe", "forecast", True, ("head.*",)),
        Stage("finetune", "forecast", True, None),
        Stage("supervised", "forecast", False, None),
    )
}


def get_stage(name: str, supported: tuple[str, ...], model_name: str) -> Stage:
    """The stage ``name`` if ``model_name`` supports it, else an input error."""
    if name not in supported:
        choices = ", ".join(supported) if supported else "none (it trains in one stage)"
        raise InputError(f"model '{model_name}' has no stage '{name}'; its stages: {choices}")
    return STAGES[name]


def stage_objective(model: nn.Module, stage: Stage) -> str:
    """The objective ``model`` trains ``stage`` with: its own ``stage_objectives`` entry, else
    the stage's."""
    return getattr(model, "stage_objectives", {}).get(stage.name, stage.objective)


def save_stage_checkpoint(path: Path, model_name: str, model: nn.Module) -> None:
    """Write ``model``'s weights with its name and configuration, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(
        {"model_name": model_name, "config": model.config(), "state": model.state_dict()}, path
    )


def load_stage_checkpoint(path: Path, model_name: str, model: nn.Module) -> list[str]:
    """Fill ``model`` from the checkpoint at ``path``; returns the names of the parameters
    left fresh. Any mismatch (another model, another configuration, a missing weight) is an
    input error."""
    if not Path(path).is_file():
        raise InputError(f"checkpoint not found: {path}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a corrupt or foreign file: one line, not a traceback
        raise InputError(f"cannot read checkpoint {path}: not a stgraph stage checkpoint") from err
    if not isinstance(saved, dict) or not {"model_name", "config", "state"} <= set(saved):
        raise InputError(f"{path} is not a stgraph stage checkpoint")
    if saved["model_name"] != model_name:
        raise InputError(f"{path} holds a '{saved['model_name']}' model, not '{model_name}'")
    config = model.config()
    differ = [k for k in config if saved["config"].get(k) != config[k]]
    if differ:
        key = differ[0]
        raise InputError(
            f"{path} was trained with {key}={saved['config'].get(key)}, this model has "
            f"{key}={config[key]}"
        )
    fresh_patterns = getattr(model, "fresh_parameters", ())
    own = model.state_dict()
    fresh = [k for k in own if any(fnmatch(k, p) for p in fresh_patterns)]
    state = {k: v for k, v in saved["state"].items() if k not in fresh}
    missing = [k for k in own if k not in state and k not in fresh]
    if missing:
        raise InputError(f"{path} lacks the weight '{missing[0]}' of this model")
    model.load_state_dict(state, strict=False)
    return fresh
