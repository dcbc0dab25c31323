r"""Per-head attention bias from pairwise distances (Graphormer-style spatial encoding)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.nn.recompute import recompute_in_chunks


class DistanceBias(nn.Module):
    r"""Learnable attention bias per head from a distance, after `Graphormer
    <https://arxiv.org/abs/2106.05234>`_'s spatial encoding and its 3-D Gaussian-basis variant.

    With ``basis="gaussian"`` (the default) the bias of head :math:`h` for a distance :math:`d` is

    .. math::
        b_h(d) = \sum_{k=1}^{K} w_{hk}\,
            \exp\!\Bigl(-\tfrac{1}{2}\bigl(\tfrac{d - \mu_k}{\sigma_k}\bigr)^2\Bigr)

    with learnable centres :math:`\mu_k` (initialised evenly on ``[0, max_distance]``), widths
    :math:`\sigma_k` (initialised to the spacing) and weights :math:`w`. With
    ``basis="bucket"``, :math:`d` falls into one of ``num_kernels`` equal-width buckets on
    ``[0, max_distance]`` (the last one open-ended) and :math:`b_h(d)` is that bucket's
    learned value.

    Args:
        heads: number of attention heads.
        num_kernels: Gaussian kernels or buckets :math:`K` (default: ``16``).
        max_distance: distance covered by the kernels/buckets, in the unit of the inputs
            (default: ``1.0``).
        basis: ``"gaussian"`` or ``"bucket"`` (default: ``"gaussian"``).
    """

    CHUNK_ELEMENTS = 1 << 24
    """Inputs whose Gaussian basis exceeds this many elements are processed in checkpointed
    chunks."""

    def __init__(
        self, heads: int, num_kernels: int = 16, max_distance: float = 1.0, basis: str = "gaussian"
    ) -> None:
        super().__init__()
        if basis not in ("gaussian", "bucket"):
            raise ValueError(f"basis must be 'gaussian' or 'bucket', got {basis!r}")
        self.heads = heads
        self.num_kernels = num_kernels
        self.max_distance = float(max_distance)
        self.basis = basis
        if basis == "gaussian":
            self.centers = nn.Parameter(torch.empty(num_kernels))
            self.log_widths = nn.Parameter(torch.empty(num_kernels))
            self.weight = nn.Parameter(torch.empty(num_kernels, heads))
        else:
            self.register_buffer(
                "boundaries", torch.linspace(0, max_distance, num_kernels + 1)[1:-1]
            )
            self.table = nn.Embedding(num_kernels, heads)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reinitialise centres, widths and weights (or the bucket table) to small values."""
        if self.basis == "gaussian":
            spacing = self.max_distance / max(self.num_kernels - 1, 1)
            with torch.no_grad():
                self.centers.copy_(torch.linspace(0, self.max_distance, self.num_kernels))
                self.log_widths.fill_(torch.log(torch.tensor(spacing)).item())
            nn.init.normal_(self.weight, std=0.02)
        else:
            nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, distance: Tensor) -> Tensor:
        """Map distances of any shape ``[...]`` to biases ``[..., heads]``."""
        if self.basis == "bucket":
            return self.table(torch.bucketize(distance, self.boundaries))
        # Large inputs (dense all-pairs distances): evaluate the [*, K] basis chunk by chunk and
        # recompute it in the backward pass, so memory stays O(numel * heads), not O(numel * K).
        rows = max(1, self.CHUNK_ELEMENTS // self.num_kernels)
        biases = recompute_in_chunks(self._gaussian, rows, distance.reshape(-1))
        return biases.view(*distance.shape, self.heads)

    def _gaussian(self, distance: Tensor) -> Tensor:
        z = (distance.unsqueeze(-1) - self.centers) / self.log_widths.exp()
        return torch.exp(-0.5 * z * z) @ self.weight

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(heads={self.heads}, {self.basis}, "
            f"num_kernels={self.num_kernels}, max_distance={self.max_distance:g})"
        )
