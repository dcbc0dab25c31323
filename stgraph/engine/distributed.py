"""Data-parallel training under ``torchrun``: process group, sharding and reductions.

Started with ``torchrun --nproc_per_node N ...``, every process reads ``RANK`` and
``WORLD_SIZE`` from the environment, joins a gloo process group and handles the windows
``batch[rank::world_size]`` of every global batch. The trainer runs on the CPU; GPU training
(and with it nccl) is not implemented yet. Without ``torchrun`` everything here degrades to a
single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class Context:
    """Rank and world size of this process."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes checkpoints, results and output."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether several processes take part."""
        return self.world_size > 1


def init_from_env() -> Context:
    """Join the process group described by torchrun's environment variables, if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context()
    if not dist.is_initialized():
        dist.init_process_group(backend="gloo")  # the trainer runs on the CPU
    return Context(dist.get_rank(), dist.get_world_size())


def all_reduce_sum(tensor: Tensor, context: Context) -> Tensor:
    """Sum ``tensor`` over all processes (in place) and return it."""
    if context.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast_flag(value: bool, context: Context) -> bool:
    """Rank 0's ``value`` on every process."""
    if not context.distributed:
        return value
    flag = torch.tensor([int(value)])
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def barrier(context: Context) -> None:
    """Wait for every process."""
    if context.distributed:
        dist.barrier()


def shutdown(context: Context) -> None:
    """Leave the process group."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()
