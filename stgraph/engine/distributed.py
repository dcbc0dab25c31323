"""Data-parallel training under ``torchrun``: process group, sharding and reductions.

Started with ``torchrun --nproc_per_node N ...``, every process reads ``RANK``, ``LOCAL_RANK``
and ``WORLD_SIZE`` from the environment, takes its device (see :mod:`stgraph.engine.device`:
with ``auto``, the GPU numbered by its local rank when there are GPUs), joins an nccl process
group on GPUs or a gloo group on CPUs, and handles the windows ``batch[rank::world_size]`` of
every global batch. Without ``torchrun`` everything here degrades to a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from stgraph.engine.device import resolve_device


@dataclass(frozen=True)
class Context:
    """Rank, world size and device of this process."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Whether this process writes checkpoints, results and output."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether several processes take part."""
        return self.world_size > 1


def init_from_env(device: str = "auto") -> Context:
    """The device of this process, and the process group described by torchrun's environment
    variables if there is one (nccl on GPUs, gloo on CPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    chosen = resolve_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    if world <= 1:
        return Context(device=chosen)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return Context(dist.get_rank(), dist.get_world_size(), chosen)


def all_reduce_sum(tensor: Tensor, context: Context) -> Tensor:
    """Sum ``tensor`` over all processes (in place, wherever it lives) and return it."""
    if context.distributed:
        # nccl reduces GPU tensors only; gloo reduces CPU tensors
        on_device = tensor.to(context.device) if context.device.type == "cuda" else tensor
        dist.all_reduce(on_device, op=dist.ReduceOp.SUM)
        if on_device is not tensor:
            tensor.copy_(on_device)
    return tensor


def broadcast_flag(value: bool, context: Context) -> bool:
    """Rank 0's ``value`` on every process."""
    if not context.distributed:
        return value
    flag = torch.tensor([int(value)], device=context.device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def barrier(context: Context) -> None:
    """Wait for every process."""
    if context.distributed:
        dist.barrier()


def shutdown(context: Context) -> None:
    """Leave the process group, all ranks together.

    Without the barrier a rank could tear its group down while another still used it, above
    all rank 0, which hosts the rendezvous store: the other rank then aborted in native code
    at exit ("terminate called without an active exception", SIGABRT) after its work was done,
    about once in ten 2-rank runs here.
    """
    if context.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
