"""Calendar slots of a window, for time-of-day and day-of-week embeddings."""

from __future__ import annotations

from torch import Tensor


def calendar_slots(batch: dict[str, Tensor], steps_per_day: int) -> tuple[Tensor, Tensor]:
    """Time-of-day slot (``0 .. steps_per_day - 1``) and day of week (``0 .. 6``) of the last
    input step of each window, both ``[B]`` int64."""
    last = batch["x_time"][:, -1]
    tod = (last[:, 0] * steps_per_day).long().clamp(0, steps_per_day - 1)
    return tod, last[:, 1].long().clamp(0, 6)
