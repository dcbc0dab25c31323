"""Activation checkpointing over chunks of a batch: memory for the backward pass that grows with
the chunk, not with the batch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def recompute_in_chunks(function: Callable[..., Tensor], size: int, *inputs: Tensor) -> Tensor:
    """``function(*inputs)`` for a ``function`` that treats the rows of its inputs apart.

    The inputs are split along their first dimension into chunks of ``size`` rows; each chunk
    runs under :func:`torch.utils.checkpoint.checkpoint`, so that its activations are dropped
    after the forward pass and recomputed in the backward pass, and the outputs are
    concatenated along the first dimension. Inputs of at most ``size`` rows run whole. The
    result equals ``function(*inputs)`` up to float rounding.
    """
    if inputs[0].size(0) <= size:
        return function(*inputs)
    chunks = zip(*(t.split(size) for t in inputs), strict=True)
    return torch.cat([checkpoint(function, *chunk, use_reentrant=False) for chunk in chunks])
