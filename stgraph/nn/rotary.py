r"""Rotary position embeddings: 1-D RoPE and the spatially extended SE-RoPE."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def rotate(x: Tensor, rotation: Tensor) -> Tensor:
    r"""Rotate the feature pairs :math:`(x_{2k}, x_{2k+1})` of ``x`` ``[..., D]`` by unit complex
    numbers ``rotation`` ``[..., D/2]`` (broadcast against ``x``).

    Each pair is read as the complex number :math:`x_{2k} + i\,x_{2k+1}` and multiplied by
    :math:`e^{i\theta_k}`: one fused complex product, no cosine/sine tensors of ``x``'s size.
    """
    if x.stride(-1) != 1:
        x = x.contiguous()
    pairs = torch.view_as_complex(x.unflatten(-1, (-1, 2)).float())
    return torch.view_as_real(pairs * rotation).flatten(-2).to(x.dtype)


def unit_complex(angles: Tensor) -> Tensor:
    r""":math:`e^{i\theta}` of real ``angles``."""
    return torch.polar(torch.ones_like(angles), angles)


def inverse_frequencies(dim: int, base: float) -> Tensor:
    r""":math:`\omega_k = \text{base}^{-2k/\text{dim}}`, :math:`k = 0 \ldots \text{dim}/2 - 1`."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)


class RotaryEmbedding(nn.Module):
    r"""Rotary position embedding (`RoFormer <https://arxiv.org/abs/2104.09864>`_).

    Feature pair :math:`(x_{2k}, x_{2k+1})` of a token at position :math:`p` is rotated by
    :math:`\theta_{p,k} = p\,\omega_k`, :math:`\omega_k = \text{base}^{-2k/D}`, so that the
    dot product of a rotated query at :math:`p` and key at :math:`p'` depends on
    :math:`p - p'` only.

    Args:
        dim: feature size :math:`D` to rotate (even).
        base: frequency base (default: ``10000.0``).
    """

    def __init__(self, dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim}")
        self.dim = dim
        self.base = base
        self.register_buffer("inv_freq", inverse_frequencies(dim, base), persistent=False)

    def forward(self, x: Tensor, positions: Tensor) -> Tensor:
        """Rotate ``x`` ``[..., L, D]`` by ``positions`` ``[L]`` or ``[..., L]``."""
        return rotate(x, unit_complex(positions.float().unsqueeze(-1) * self.inv_freq))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dim={self.dim}, base={self.base:g})"


class SpatialRotaryEmbedding(nn.Module):
    r"""Spatially extended rotary embedding (SE-RoPE), after ST-LINK's SE-Attention
    (`arXiv:2509.13753 <https://arxiv.org/abs/2509.13753>`_).

    A token of node :math:`n` at time :math:`t` has its head dimension :math:`D` split in two
    halves of :math:`D/4` feature pairs each. The first half is rotated by the time position,
    :math:`\theta^{\text{time}}_{k} = t\,\omega_k`; the second by the node's spatial position
    :math:`s_n` with per-node learned frequency scales :math:`\gamma_{n,k} = e^{g_{n,k}}`:

    .. math::
        \theta^{\text{space}}_{n,k} = s_n\,\gamma_{n,k}\,\omega_k, \qquad
        \omega_k = \text{base}^{-4k/D},\ k = 0 \ldots D/4 - 1.

    :math:`g` is an ``[N, D/4]`` embedding initialised to zero, so that at initialisation (and
    whenever :math:`\gamma = 1`) the layer is exactly two 1-D RoPEs: time on the first half,
    spatial position on the second. The spatial position defaults to the node index; pass
    ``positions`` (e.g. a 1-D ordering of the sensors along a road) to use another.

    Args:
        head_dim: per-head feature size :math:`D` (a multiple of 4).
        num_nodes: number of nodes :math:`N`.
        base: frequency base (default: ``10000.0``).
        positions: ``[N]`` spatial positions (default: ``None``, the node index).
        learn_scale: whether :math:`g` is learned (default: ``True``).
    """

    def __init__(
        self,
        head_dim: int,
        num_nodes: int,
        base: float = 10000.0,
        positions: Tensor | None = None,
        learn_scale: bool = True,
    ) -> None:
        super().__init__()
        if head_dim % 4:
            raise ValueError(f"head_dim must be a multiple of 4, got {head_dim}")
        self.head_dim = head_dim
        self.num_nodes = num_nodes
        self.base = base
        half = head_dim // 2
        self.register_buffer("inv_freq", inverse_frequencies(half, base), persistent=False)
        spatial = torch.arange(num_nodes, dtype=torch.float32) if positions is None else positions
        self.register_buffer("positions", spatial.float().clone())
        self.log_scale = nn.Parameter(torch.zeros(num_nodes, half // 2), requires_grad=learn_scale)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the per-node frequency scales to one."""
        nn.init.zeros_(self.log_scale)

    def node_scales(self) -> Tensor:
        r"""Per-node frequency scales :math:`\gamma`, ``[N, D/4]``."""
        return self.log_scale.exp()

    def angles(self, time_positions: Tensor, node_index: Tensor) -> Tensor:
        """Rotation angles ``[..., L, D/2]`` (time half, then space half) of each token."""
        time = time_positions.float().unsqueeze(-1) * self.inv_freq
        space = self.positions[node_index].unsqueeze(-1) * self.log_scale[node_index].exp()
        return torch.cat((time, space * self.inv_freq), dim=-1)

    def rotation(self, time_positions: Tensor, node_index: Tensor) -> Tensor:
        """Unit complex rotations ``[..., L, D/2]`` of every token (for :func:`rotate`)."""
        return unit_complex(self.angles(time_positions, node_index))

    def forward(self, x: Tensor, time_positions: Tensor, node_index: Tensor) -> Tensor:
        """Rotate ``x`` ``[..., L, D]``; ``time_positions`` and ``node_index`` are ``[..., L]``."""
        return rotate(x, self.rotation(time_positions, node_index))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(head_dim={self.head_dim}, "
            f"num_nodes={self.num_nodes}, base={self.base:g})"
        )
