r"""PromptST: one spatio-temporal transformer shared by many attributes, tuned per attribute by
prompts (`Zhang et al., CIKM 2023 <https://arxiv.org/abs/2309.09005>`_).

The public code's defects are not carried over (see :class:`PromptST`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.nn import DeepPromptTokens, SpatialTransformerBlock, recompute_in_chunks

PROMPT_SCOPES = ("node", "shared")


def last_step(layer: nn.TransformerEncoderLayer, h: Tensor, position: int) -> Tensor:
    """A pre-norm ``layer``'s output at one ``position`` of ``h`` ``[S, L, d]`` → ``[S, d]``.

    The query of that step attends to every step and the feed-forward runs on it alone, which
    equals ``layer(h)[:, position]`` at about ``1 / L`` of the feed-forward's cost: the top
    temporal layer of PromptST is only read at the last step.
    """
    normed = layer.norm1(h)
    query = normed[:, position : position + 1]
    attended = layer.self_attn(query, normed, normed, need_weights=False)[0]
    out = h[:, position : position + 1] + layer.dropout1(attended)
    hidden = layer.dropout(layer.activation(layer.linear1(layer.norm2(out))))
    return (out + layer.dropout2(layer.linear2(hidden))).squeeze(1)


class PromptST(nn.Module):
    r"""A temporal transformer over each node's history, then a graph-aware spatial
    transformer over the nodes, then a linear head; one set of weights for every attribute.

    **Attributes are a batch axis.** A window :math:`x \in \mathbb{R}^{L \times N \times A}`
    becomes :math:`A` single-attribute series, each embedded from its value alone
    (:math:`W_v x + e^{time}_t`, trained time positions), so nothing in the backbone is tied
    to an attribute and an attribute never seen in pretraining can be served.

    **Temporal encoder**: ``temporal_layers`` pre-norm transformer layers along the
    :math:`L` steps of each (attribute, node) series; the last step's state goes on, plus a
    trained node embedding. **Spatial encoder**: ``spatial_layers``
    :class:`~stgraph.nn.SpatialTransformerBlock` over the :math:`N` nodes, with the graph's
    distance and hop biases (``spatial_bias=False``: plain attention, the no-graph ablation).
    **Head**: :math:`\mathbb{R}^{d} \to \mathbb{R}^{H}` per node and attribute.

    **Prompts** (``prompt_tokens`` :math:`P > 0`): deep prompts
    (:class:`~stgraph.nn.DeepPromptTokens`, one set per attribute) join every temporal layer
    (appended to the time axis, per node or shared across nodes, ``prompt_scope``) and every
    spatial layer (appended to the node axis, without spatial bias); their outputs are dropped
    after each layer. With the backbone frozen, the prompts and the head are all that train
    (the ``prompt-tune`` stage).

    Differences from the public code, on purpose: the position tables are trained (there they
    are fixed random tables); the spatial encoder sees the graph (there it is fully connected
    and graph-blind); prompts also enter the spatial layers (there that path is off and adds
    untrained LayerNorms); scalers are fitted per attribute on the training steps (there one
    scaler over the whole series of all attributes).

    **Memory** (``checkpoint_series`` :math:`S`): a joint batch holds
    :math:`B \cdot A \cdot N` temporal series, and the temporal encoder's saved activations
    grow with all of them (over 1 GiB for :math:`16 \cdot 19 \cdot 64` series at
    :math:`d = 32`). With :math:`S` set, training runs the temporal encoder over at most
    :math:`S` series at a time and recomputes each group's activations in the backward pass
    (activation checkpointing), so that memory grows with :math:`S` instead; the gradients
    are those of the whole batch up to float rounding.

    Args:
        num_nodes: nodes :math:`N`.
        input_len: history steps :math:`L`.
        output_len: forecast steps :math:`H`.
        num_attributes: attributes :math:`A` with their own prompts (default: ``1``).
        distance: ``[N, N]`` distances scaled to about ``[0, 1]`` (default: ``None``).
        hops: ``[N, N]`` hop counts, negative where unreachable (default: ``None``).
        spatial_bias: use the graph's biases (default: ``True``).
        channels: width :math:`d` (default: ``32``, as the paper).
        temporal_heads: heads of the temporal layers (default: ``4``).
        spatial_heads: heads of the spatial layers (default: ``8``).
        temporal_layers: temporal layers (default: ``2``).
        spatial_layers: spatial layers (default: ``2``).
        prompt_tokens: prompts per layer :math:`P`, ``0`` for none (default: ``0``).
        prompt_scope: ``"node"`` (one prompt set per node in the temporal layers) or
            ``"shared"`` (default: ``"node"``).
        fresh_head: an adapting stage starts a new head (as PromptST's code does) rather than
            the pretrained one, which ``prompt-tune`` then trains and ``tiny-prompt`` keeps
            frozen (default: ``False``).
        dropout: dropout (default: ``0.0``, as PromptST's released scripts).
        checkpoint_series: series :math:`S` whose temporal activations training keeps at
            once, ``None`` for all (default: ``None``).
    """

    stage_patterns = {"tiny-prompt": ["*prompts.prompts"]}
    """``tiny-prompt`` trains the prompts alone, on the pretrained head."""

    stage_objectives = {"pretrain": "forecast"}
    """Pretraining is supervised forecasting of every training attribute with shared weights."""

    def __init__(
        self,
        num_nodes: int,
        input_len: int,
        output_len: int,
        num_attributes: int = 1,
        distance: Tensor | None = None,
        hops: Tensor | None = None,
        spatial_bias: bool = True,
        channels: int = 32,
        temporal_heads: int = 4,
        spatial_heads: int = 8,
        temporal_layers: int = 2,
        spatial_layers: int = 2,
        prompt_tokens: int = 0,
        prompt_scope: str = "node",
        fresh_head: bool = False,
        dropout: float = 0.0,
        checkpoint_series: int | None = None,
    ) -> None:
        super().__init__()
        if checkpoint_series is not None and checkpoint_series < 1:
            raise ValueError(f"checkpoint_series must be at least 1, got {checkpoint_series}")
        if prompt_scope not in PROMPT_SCOPES:
            raise ValueError(f"prompt_scope must be one of {', '.join(PROMPT_SCOPES)}")
        if prompt_tokens < 0:
            raise ValueError(f"prompt_tokens must be at least 0, got {prompt_tokens}")
        self.fresh_parameters = (
            ("head.*", "*prompts.prompts") if fresh_head else ("*prompts.prompts",)
        )
        self.num_nodes = num_nodes
        self.input_len = input_len
        self.output_len = output_len
        self.num_attributes = num_attributes
        self.channels = channels
        self.spatial_bias = spatial_bias
        self.checkpoint_series = checkpoint_series
        self.temporal_layer_count = temporal_layers
        self.spatial_layer_count = spatial_layers
        self.value = nn.Linear(1, channels)
        self.time_position = nn.Parameter(torch.empty(input_len, channels))
        self.node = nn.Parameter(torch.empty(num_nodes, channels))
        self.temporal = nn.ModuleList(
            nn.TransformerEncoderLayer(
                channels,
                temporal_heads,
                4 * channels,
                dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(temporal_layers)
        )
        self.spatial = nn.ModuleList(
            SpatialTransformerBlock(
                channels,
                spatial_heads,
                distance_kernels=16 if spatial_bias else 0,
                max_hops=4 if spatial_bias else None,
                dropout=dropout,
            )
            for _ in range(spatial_layers)
        )
        self.register_buffer("distance", distance if spatial_bias else None, persistent=False)
        self.register_buffer("hops", hops if spatial_bias else None, persistent=False)
        self.norm = nn.LayerNorm(channels)
        self.head = nn.Linear(channels, output_len)
        per_node = num_nodes if prompt_scope == "node" else None
        self.temporal_prompts = (
            DeepPromptTokens(
                temporal_layers, prompt_tokens, channels, per_node, num_groups=num_attributes
            )
            if prompt_tokens
            else None
        )
        self.spatial_prompts = (
            DeepPromptTokens(spatial_layers, prompt_tokens, channels, num_groups=num_attributes)
            if prompt_tokens
            else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform position and node tables; every layer, prompt and the head anew."""
        for table in (self.time_position, self.node):
            nn.init.xavier_uniform_(table)
        self.value.reset_parameters()
        for layer in self.temporal:
            for module in layer.modules():
                if isinstance(module, (nn.Linear, nn.LayerNorm)):
                    module.reset_parameters()
            layer.self_attn._reset_parameters()
        for block in self.spatial:
            block.reset_parameters()
        self.norm.reset_parameters()
        self.head.reset_parameters()
        for prompts in (self.temporal_prompts, self.spatial_prompts):
            if prompts is not None:
                prompts.reset_parameters()

    def config(self) -> dict:
        """What fixes the backbone's weight shapes (stage checkpoints must match it)."""
        return {
            "num_nodes": self.num_nodes,
            "input_len": self.input_len,
            "output_len": self.output_len,
            "channels": self.channels,
            "temporal_layers": self.temporal_layer_count,
            "spatial_layers": self.spatial_layer_count,
            "spatial_bias": self.spatial_bias,
        }

    def _temporal(self, h: Tensor, attribute: Tensor) -> Tensor:
        """``[R, N, L, d]`` series through the temporal encoder → the last step's state
        ``[R, N, d]``; in training with ``checkpoint_series``, in groups of rows that are
        recomputed in the backward pass."""
        if self.checkpoint_series is None or not (self.training and torch.is_grad_enabled()):
            return self._temporal_layers(h, attribute)
        rows = max(1, self.checkpoint_series // h.size(1))
        return recompute_in_chunks(self._temporal_layers, rows, h, attribute)

    def _temporal_layers(self, h: Tensor, attribute: Tensor) -> Tensor:
        """The temporal layers (with prompts) on ``[R, N, L, d]``; the top layer computes the
        last step alone."""
        rows, nodes, length = h.shape[:3]
        last = len(self.temporal) - 1
        for index, layer in enumerate(self.temporal):
            if self.temporal_prompts is not None:
                h = self.temporal_prompts.insert(h, index, attribute)
            flat = h.flatten(0, 1)
            if index == last:
                return last_step(layer, flat, length - 1).view(rows, nodes, -1)
            h = layer(flat).unflatten(0, (rows, nodes))
            if self.temporal_prompts is not None:
                h = self.temporal_prompts.remove(h)
        return h[:, :, -1]

    def _spatial(self, h: Tensor, attribute: Tensor) -> Tensor:
        """``[R, N, d]`` node states through the spatial blocks (with prompts)."""
        for index, block in enumerate(self.spatial):
            if self.spatial_prompts is not None:
                h = self.spatial_prompts.insert(h, index, attribute)
            h = block(h, self.distance, self.hops)
            if self.spatial_prompts is not None:
                h = self.spatial_prompts.remove(h)
        return h

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, H, N, A]`` for inputs ``batch["x"]`` ``[B, L, N, A]``."""
        x = batch["x"]
        b, length, n, attributes = x.shape
        if self.temporal_prompts is not None and attributes != self.num_attributes:
            raise ValueError(
                f"the prompts are for {self.num_attributes} attributes, the data has {attributes}"
            )
        series = x.permute(0, 3, 2, 1).reshape(b * attributes, n, length, 1)
        attribute = torch.arange(attributes, device=x.device).repeat(b)
        h = self.value(series) + self.time_position
        h = self._temporal(h, attribute) + self.node
        h = self._spatial(h, attribute)
        out = self.head(self.norm(h))  # [B * A, N, H]
        return out.view(b, attributes, n, self.output_len).permute(0, 3, 2, 1)
