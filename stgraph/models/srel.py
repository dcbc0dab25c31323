"""SREL: a Graphormer-style multi-view region encoder with spatial attention biases (ToPT's
first stage), trained self-supervised as HAFusion trains its encoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stgraph.nn import CentralityEncoding, SpatialTransformerBlock


def biased_block(
    channels: int,
    heads: int,
    use_distance: bool,
    max_hops: int | None,
    learn_bias: bool,
    dropout: float,
) -> SpatialTransformerBlock:
    r"""A transformer block over regions with a distance (or hop) bias; ``learn_bias=False``
    fixes :math:`\lambda = 0`."""
    return SpatialTransformerBlock(
        channels,
        heads,
        distance_kernels=16 if use_distance else 0,
        max_hops=max_hops,
        bias_strength=1.0 if learn_bias else 0.0,
        learn_strength=learn_bias,
        attention_dropout=dropout,
        dropout=dropout,
    )


class ViewFusion(nn.Module):
    r"""Attention over views: :math:`\beta_v = \operatorname{softmax}_v\bigl(\frac{1}{N}\sum_i
    q^\top \tanh(W h_{v,i})\bigr)`, fused :math:`h_i = \sum_v \beta_v h_{v,i}` (HAFusion)."""

    def __init__(self, channels: int, hidden: int = 32) -> None:
        super().__init__()
        self.project = nn.Linear(channels, hidden)
        self.query = nn.Linear(hidden, 1, bias=False)

    def forward(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """``[V, N, C]`` → fused ``[N, C]`` and the view weights ``[V]``."""
        scores = self.query(torch.tanh(self.project(views))).mean(dim=(1, 2))
        weights = torch.softmax(scores, dim=0)
        return (weights[:, None, None] * views).sum(dim=0), weights


OBJECTIVES = ("mobility", "similarity", "views")


class SREL(nn.Module):
    r"""Spatial region embedding learner.

    1. Each view is projected to ``channels`` and receives centrality encodings (log-bucketed
       inflow and PageRank quantile of the mobility graph, as Graphormer's degree encoding).
    2. A :func:`biased_block` per view lets regions attend to each other with a learned
       distance bias (or, without coordinates, a hop bias), scaled by :math:`\lambda`.
    3. :class:`ViewFusion` mixes the views; ``num_layers`` further biased blocks fuse regions;
       a linear map gives the embedding :math:`e_i` (default 144, as HAFusion).

    The self-supervised objective (:meth:`loss`) follows HAFusion — cross-entropy between
    :math:`\operatorname{softmax}_j(s_i^\top d_j)` and the outgoing trip distribution of region
    :math:`i`, the same for incoming trips, and squared error between the cosine similarities
    of decoded embeddings and the POI / land-use similarity matrices — plus a reconstruction of
    the standardised views, which keeps each region's activity level in the embedding.

    Args:
        view_dims: ``{view: D_v}``.
        channels: hidden width (default: ``64``).
        embed_dim: embedding size (default: ``144``).
        heads: attention heads (default: ``4``).
        num_layers: region-fusion blocks (default: ``2``).
        spatial_prior: ``"distance"`` or ``"hops"`` (default: ``"distance"``).
        learn_bias: learn :math:`\lambda`; ``False`` fixes :math:`\lambda = 0`, the no-bias
            ablation (default: ``True``).
        similarity_names: similarity matrices to reconstruct (default: ``()``).
        dropout: dropout (default: ``0.1``).
        objectives: parts of the self-supervised loss, any of ``"mobility"``,
            ``"similarity"``, ``"views"`` (default: all three).
        view_skip: feed each view's own intra-view representation to the output map beside
            the fused one, :math:`e_i = W [h_i, h^{(1)}_i, \ldots, h^{(V)}_i]`, so detail of
            one view reaches the embedding without passing through the fusion
            (default: ``False``).
    """

    def __init__(
        self,
        view_dims: dict[str, int],
        channels: int = 64,
        embed_dim: int = 144,
        heads: int = 4,
        num_layers: int = 2,
        spatial_prior: str = "distance",
        learn_bias: bool = True,
        similarity_names: tuple[str, ...] = (),
        dropout: float = 0.1,
        objectives: tuple[str, ...] = OBJECTIVES,
        view_skip: bool = False,
    ) -> None:
        super().__init__()
        unknown = set(objectives) - set(OBJECTIVES)
        if unknown or not objectives:
            raise ValueError(f"objectives must be a non-empty subset of {OBJECTIVES}")
        self.objectives = tuple(objectives)
        self.view_names = list(view_dims)
        self.similarity_names = list(similarity_names)
        use_distance = spatial_prior == "distance"
        max_hops = None if use_distance else 4
        self.project = nn.ModuleDict({v: nn.Linear(d, channels) for v, d in view_dims.items()})
        self.inflow_encoding = CentralityEncoding(channels, 16, mode="log")
        self.pagerank_encoding = CentralityEncoding(channels, 16, mode="quantile")
        self.intra = nn.ModuleDict(
            {
                v: biased_block(channels, heads, use_distance, max_hops, learn_bias, dropout)
                for v in view_dims
            }
        )
        self.fusion = ViewFusion(channels)
        self.blocks = nn.ModuleList(
            biased_block(channels, heads, use_distance, max_hops, learn_bias, dropout)
            for _ in range(num_layers)
        )
        self.view_skip = view_skip
        self.out = nn.Linear(channels * (1 + len(view_dims) if view_skip else 1), embed_dim)
        self.source = nn.Linear(embed_dim, embed_dim)
        self.target = nn.Linear(embed_dim, embed_dim)
        self.similarity_decoders = nn.ModuleDict(
            {n: nn.Linear(embed_dim, embed_dim) for n in self.similarity_names}
        )
        self.view_decoders = nn.ModuleDict(
            {v: nn.Linear(embed_dim, d) for v, d in view_dims.items()}
        )

    def forward(
        self,
        views: dict[str, Tensor],
        distance: Tensor | None,
        hops: Tensor | None,
        inflow: Tensor,
        pagerank: Tensor,
    ) -> Tensor:
        """Region embeddings ``[N, embed_dim]``."""
        encoded = []
        for name in self.view_names:
            h = torch.relu(self.project[name](views[name]))
            h = self.pagerank_encoding(self.inflow_encoding(h, inflow), pagerank)
            encoded.append(self.intra[name](h, distance, hops))
        h, _ = self.fusion(torch.stack(encoded))
        for block in self.blocks:
            h = block(h, distance, hops)
        return self.out(torch.cat([h, *encoded], dim=-1) if self.view_skip else h)

    def loss(
        self,
        embedding: Tensor,
        views: dict[str, Tensor],
        mobility: Tensor | None,
        similarities: dict[str, Tensor],
    ) -> tuple[Tensor, dict[str, float]]:
        """Self-supervised loss of ``embedding``; returns the total and its parts."""
        parts: dict[str, Tensor] = {}
        if mobility is not None and "mobility" in self.objectives:
            logits = self.source(embedding) @ self.target(embedding).t()
            out_dist = mobility / mobility.sum(dim=1, keepdim=True).clamp(min=1e-12)
            in_dist = mobility.t() / mobility.t().sum(dim=1, keepdim=True).clamp(min=1e-12)
            parts["mobility_out"] = -(out_dist * F.log_softmax(logits, dim=1)).sum(1).mean()
            parts["mobility_in"] = -(in_dist * F.log_softmax(logits.t(), dim=1)).sum(1).mean()
        for name in self.similarity_names if "similarity" in self.objectives else ():
            decoded = F.normalize(self.similarity_decoders[name](embedding), dim=-1)
            parts[name] = (decoded @ decoded.t() - similarities[name]).square().mean()
        for name in self.view_names if "views" in self.objectives else ():
            parts[f"{name}_view"] = (
                (self.view_decoders[name](embedding) - views[name]).square().mean()
            )
        if not parts:
            raise ValueError(f"no part of the objectives {self.objectives} applies to this data")
        total = torch.stack(list(parts.values())).sum()
        return total, {k: v.item() for k, v in parts.items()}
