r"""Feed-forward block that retrieves from a learned key/value memory and routes the result
through a mixture of experts (ST-LINK's MRFFN)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def coefficient_of_variation_squared(values: Tensor, eps: float = 1e-10) -> Tensor:
    r""":math:`\operatorname{Var}(v) / \operatorname{mean}(v)^2` (population variance)."""
    return values.var(unbiased=False) / (values.mean() ** 2 + eps)


def load_balancing_loss(probs: Tensor, expert_index: Tensor, num_experts: int) -> Tensor:
    r"""Balance loss of a top-k router (`Shazeer et al., 2017 <https://arxiv.org/abs/1701.06538>`_):

    .. math::
        \mathcal{L} = \operatorname{CV}^2\Bigl(\sum_t g_t\Bigr)
                    + \operatorname{CV}^2\Bigl(\sum_t \mathbb{1}[e \in \text{top-}k(t)]\Bigr)

    the squared coefficients of variation of the experts' importance (summed gate
    probabilities) and load (number of tokens routed). It is zero exactly when both are equal
    across experts.

    Args:
        probs: ``[T, E]`` gate probabilities.
        expert_index: ``[T, k]`` experts chosen for each token.
        num_experts: :math:`E`.
    """
    importance = probs.sum(dim=0)
    load = torch.bincount(expert_index.reshape(-1), minlength=num_experts).to(probs.dtype)
    return coefficient_of_variation_squared(importance) + coefficient_of_variation_squared(load)


class MemoryRetrievalFFN(nn.Module):
    r"""Memory-retrieval feed-forward network with mixture-of-experts routing, after ST-LINK's
    MRFFN (`arXiv:2509.13753 <https://arxiv.org/abs/2509.13753>`_).

    For a token :math:`x`: a query :math:`q = \hat{W_q x}` (unit norm) retrieves the
    :math:`k` memory slots with the most similar keys, and reads their values

    .. math::
        r = \sum_{j \in \text{top-}k(q^\top \hat K)} \operatorname{softmax}_j
            \bigl(q^\top \hat K_j / \tau\bigr)\, V_j .

    :math:`h = [x; r]` is routed to ``experts_per_token`` of ``num_experts`` two-layer MLPs
    by a softmax gate :math:`g = \operatorname{softmax}(W_g h)`; the output is their
    gate-weighted sum (weights renormalised over the chosen experts). The values and all
    weights learn by gradient; the keys are not parameters but follow the queries that select
    them by an exponential moving average, in training mode only:

    .. math::
        K_j \leftarrow \operatorname{normalize}\bigl(\mu K_j + (1 - \mu)\,\bar q_j\bigr)

    with :math:`\bar q_j` the mean query that selected slot :math:`j` in the batch.
    :meth:`forward` returns the output and the :func:`load_balancing_loss`, which the caller
    adds to its objective.

    Args:
        channels: token size :math:`C`.
        memory_size: number of slots :math:`M` (default: ``64``).
        top_k: slots read per token :math:`k` (default: ``4``).
        num_experts: experts :math:`E` (default: ``4``).
        experts_per_token: experts used per token (default: ``2``).
        hidden_channels: expert hidden size (default: ``4 * channels``).
        ema_decay: :math:`\mu` (default: ``0.99``).
        temperature: :math:`\tau` (default: ``0.1``).
    """

    def __init__(
        self,
        channels: int,
        memory_size: int = 64,
        top_k: int = 4,
        num_experts: int = 4,
        experts_per_token: int = 2,
        hidden_channels: int | None = None,
        ema_decay: float = 0.99,
        temperature: float = 0.1,
    ) -> None:
        super().__init__()
        if not 1 <= top_k <= memory_size:
            raise ValueError(f"top_k must lie in [1, memory_size], got {top_k}")
        if not 1 <= experts_per_token <= num_experts:
            raise ValueError("experts_per_token must lie in [1, num_experts]")
        self.channels = channels
        self.memory_size = memory_size
        self.top_k = top_k
        self.num_experts = num_experts
        self.experts_per_token = experts_per_token
        self.ema_decay = ema_decay
        self.temperature = temperature
        hidden = hidden_channels or 4 * channels
        self.query = nn.Linear(channels, channels)
        self.register_buffer("keys", torch.empty(memory_size, channels))
        self.values = nn.Parameter(torch.empty(memory_size, channels))
        self.gate = nn.Linear(2 * channels, num_experts)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * channels, hidden), nn.GELU(), nn.Linear(hidden, channels))
            for _ in range(num_experts)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random unit keys, small values, default-initialised projections and experts."""
        with torch.no_grad():
            self.keys.copy_(F.normalize(torch.randn_like(self.keys), dim=-1))
        nn.init.normal_(self.values, std=0.02)
        self.query.reset_parameters()
        self.gate.reset_parameters()
        for expert in self.experts:
            for layer in expert:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()

    def retrieve(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return ``(read vector [T, C], slot index [T, k], unit queries [T, C])``.

        The read is one product of the ``[T, M]`` retrieval weights (zero outside each
        token's top-k) with the values: no ``[T, k, C]`` gather of memory rows.
        """
        query = F.normalize(self.query(x), dim=-1)
        similarity = query @ self.keys.t()
        top, index = similarity.topk(self.top_k, dim=-1)
        weights = torch.softmax(top / self.temperature, dim=-1)
        retrieval = torch.zeros_like(similarity).scatter(-1, index, weights)
        return retrieval @ self.values, index, query

    @torch.no_grad()
    def update_keys(self, query: Tensor, index: Tensor) -> None:
        """EMA of each selected slot's key towards the mean query that selected it."""
        selected = torch.zeros(
            len(query), self.memory_size, dtype=self.keys.dtype, device=query.device
        )
        selected.scatter_(-1, index, 1.0)
        total = selected.t() @ query.detach().to(self.keys.dtype)
        count = selected.sum(dim=0)
        used = count > 0
        mean = total[used] / count[used].unsqueeze(-1)
        keys = self.keys.clone()  # a new tensor: the old one may still be needed by autograd
        keys[used] = F.normalize(self.ema_decay * keys[used] + (1 - self.ema_decay) * mean, dim=-1)
        self.keys = keys

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Map ``x`` ``[..., C]`` to ``(output [..., C], load-balancing loss [])``."""
        tokens = x.reshape(-1, self.channels)
        read, index, query = self.retrieve(tokens)
        if self.training:
            self.update_keys(query, index)
        hidden = torch.cat((tokens, read), dim=-1)
        probs = torch.softmax(self.gate(hidden), dim=-1)
        top, experts = probs.topk(self.experts_per_token, dim=-1)
        top = top / top.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            token, slot = (experts == e).nonzero(as_tuple=True)
            if token.numel():
                weighted = top[token, slot].unsqueeze(-1) * expert(hidden[token])
                out.index_add_(0, token, weighted.to(out.dtype))  # autocast may lower it
        loss = load_balancing_loss(probs, experts, self.num_experts)
        return out.view_as(x), loss

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, memory={self.memory_size}, "
            f"top_k={self.top_k}, experts={self.num_experts})"
        )
