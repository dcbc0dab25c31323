"""Where training runs: device names, moving batches, mixed precision.

``"auto"`` picks the GPU when PyTorch sees one (under ``torchrun``, the GPU of the process's
``LOCAL_RANK``), else the CPU; ``"cpu"``, ``"cuda"`` and ``"cuda:k"`` are taken as given and
checked. Models, batches, scalers and metrics all follow the device of the tensors they get,
so the same code path runs on either.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

import torch
from torch import Tensor

from stgraph.errors import InputError

PRECISIONS = ("fp32", "bf16")


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """The :class:`torch.device` for ``name`` (``auto``, ``cpu``, ``cuda`` or ``cuda:k``)."""
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if name == "auto":
        return torch.device("cuda", local_rank % available) if available else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise InputError(f"unknown device '{name}'; choose auto, cpu, cuda or cuda:K") from err
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise InputError(f"device '{name}' is not supported; choose auto, cpu, cuda or cuda:K")
    if not available:
        raise InputError(f"device '{name}' was asked for but PyTorch sees no CUDA GPU here")
    index = local_rank if device.index is None else device.index
    if index >= available:
        raise InputError(f"device '{name}' does not exist: PyTorch sees {available} GPU(s)")
    return torch.device("cuda", index)


def to_device(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    """Every tensor of ``batch`` on ``device`` (copied without blocking where possible)."""
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in batch.items()
    }


class SlowPrecisionWarning(UserWarning):
    """The asked-for precision runs, but emulated, far slower than fp32 on this device."""


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AVX512-BF16 or AMX), as
    oneDNN reports it; ``True`` where this build of torch cannot tell."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def check_precision(precision: str, device: torch.device) -> None:
    """``bf16`` needs a GPU with bfloat16 support; on a CPU without bfloat16 matrix
    instructions it runs emulated, and a :class:`SlowPrecisionWarning` says so (on an AVX2
    CPU a 2048² bfloat16 product ran about 250 times slower than in fp32)."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision '{precision}'; choose {' or '.join(PRECISIONS)}")
    if precision != "bf16":
        return
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError(f"{torch.cuda.get_device_name(device)} does not support bfloat16")
    if device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            "this CPU has no bfloat16 matrix instructions (AVX512-BF16 or AMX): bf16 autocast "
            "is emulated here and runs far slower than fp32",
            SlowPrecisionWarning,
            stacklevel=2,
        )


@contextlib.contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """bfloat16 autocast on ``device`` when ``precision == "bf16"``, else nothing."""
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        yield
