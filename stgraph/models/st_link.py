r"""ST-LINK: a pretrained language backbone with SE-Attention, memory retrieval and partially
frozen attention (`Jeon et al., CIKM 2025 <https://arxiv.org/abs/2509.13753>`_), and its base
ST-LLM (`Liu et al., MDM 2024 <https://arxiv.org/abs/2401.10134>`_).

No ST-LINK code is public; every choice the paper leaves open is named in :class:`STLink`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.llm.backbone import BackboneWeights
from stgraph.models.language_backbone import PretrainedTransformer
from stgraph.models.time_index import calendar_slots

POSITION_ENCODINGS = ("rotary", "absolute")


class STLink(nn.Module):
    r"""Spatio-temporal forecasting with the blocks of a pretrained transformer.

    **Tokens** (as ST-LLM): one token per node, or with ``patch_len`` one per (node, patch) of
    the history. A token's embedding fuses three parts of size ``embed_dim``: a linear map of
    its history values, a learned node embedding, and learned time-of-day plus day-of-week
    embeddings of the window's last input step; a linear map lifts the concatenation to the
    backbone width :math:`C`:

    .. math::
        h^{(0)}_{n,p} = W_f\,[\,W_x x_{n,p} \,\|\, E^{node}_n \,\|\,
            E^{tod}_{\tau} + E^{dow}_{\delta}\,].

    **Positions.** ``"rotary"`` (ST-LINK's SE-Attention): every block's attention rotates
    queries and keys by SE-RoPE (:class:`~stgraph.nn.SpatialRotaryEmbedding`): half of each
    head by the token's patch index, half by the node's spatial position with per-node learned
    frequency scales (one set per block). The backbone's absolute position table is not used.
    ``"absolute"`` (ST-LLM): a learned position per token added to :math:`h^{(0)}`, started
    from the backbone's own table (fresh :math:`\mathcal{N}(0, 0.02^2)` rows past its length).

    **Memory retrieval** (MRFFN, ``memory=True``): a :class:`~stgraph.nn.MemoryRetrievalFFN`
    (key/value memory, top-k retrieval, EMA key updates in training only, the read vector
    concatenated with the token and routed through a top-2-of-4 mixture of experts of hidden
    width :math:`C/2`) beside the frozen MLP of the top ``memory_layers`` blocks; its load-balancing
    loss, times ``balance_weight``, is left in :attr:`auxiliary_loss` after each forward pass
    for the trainer to add.

    **Partially frozen attention** (PFA, as ST-LLM): the lower :math:`L - U` blocks train only
    their LayerNorms, the upper :math:`U` (``unfrozen_layers``) also their attention; every
    pretrained MLP stays frozen. The input embeddings, positions, node frequency scales,
    memory experts and the head always train. :attr:`trainable_patterns` names them for
    :func:`stgraph.engine.freezing.apply_model_freezing`; ``full_tune`` trains everything.

    **Head**: a linear map of each node's final token(s) to its :math:`H \times F` forecast.

    Choices the paper leaves open, as made here: node tokens by default (measured against
    patch tokens, see ``benchmarks/results/st-link-speed.md``); with node tokens every token
    of a window shares one time position, so the time half of SE-RoPE rotates a query and a
    key alike and leaves their score unchanged: the spatial half carries SE-Attention. The
    spatial position is the node's rank in the spectral ordering of the sensor graph
    (:func:`stgraph.data.spectral_order.spectral_order`), so that graph neighbours are close
    in rotation angle; the node index is the ablation. The backbone keeps its own attention
    pattern (GPT-2 causal over the token order, BERT bidirectional). MRFFN sits beside the MLP
    of the top block only, with experts of hidden width :math:`C/2`, to keep its cost small
    beside the blocks (``benchmarks/results/st-link-speed.md``); the balance weight is 0.01.
    Each part has its ablation row (the ``st-link-*`` models of the bench, measured in
    ``benchmarks/results/st-link-los-loop-ablations/``).

    Args:
        backbone: pretrained weights (:func:`~stgraph.llm.backbone.load_backbone`).
        num_nodes: nodes :math:`N`.
        input_len: history steps :math:`L_{in}`.
        output_len: forecast steps :math:`H`.
        num_features: features per node :math:`F`.
        steps_per_day: time-of-day slots (default: ``288``).
        spatial_positions: ``[N]`` spatial positions for SE-RoPE (default: ``None``, the node
            index).
        position_encoding: ``"rotary"`` or ``"absolute"`` (default: ``"rotary"``).
        memory: use MRFFN (default: ``True``).
        memory_layers: top blocks with MRFFN (default: ``1``).
        unfrozen_layers: :math:`U` (default: ``2``).
        full_tune: train every weight (default: ``False``).
        pretrained: load the backbone's weights; ``False`` re-initialises them (default:
            ``True``).
        patch_len: history steps per token; ``None``: the whole history, one token per node
            (default: ``None``).
        embed_dim: size of each input embedding part (default: ``128``).
        balance_weight: weight of the memory's load-balancing loss (default: ``0.01``).
        dropout: residual dropout in the backbone (default: ``0.1``).
    """

    def __init__(
        self,
        backbone: BackboneWeights,
        num_nodes: int,
        input_len: int,
        output_len: int,
        num_features: int,
        steps_per_day: int = 288,
        spatial_positions: Tensor | None = None,
        position_encoding: str = "rotary",
        memory: bool = True,
        memory_layers: int = 1,
        unfrozen_layers: int = 2,
        full_tune: bool = False,
        pretrained: bool = True,
        patch_len: int | None = None,
        embed_dim: int = 128,
        balance_weight: float = 0.01,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if position_encoding not in POSITION_ENCODINGS:
            raise ValueError(f"position_encoding must be one of {', '.join(POSITION_ENCODINGS)}")
        if not 0 <= unfrozen_layers <= backbone.depth:
            raise ValueError(
                f"unfrozen layers must lie in [0, {backbone.depth}] (the backbone's depth), "
                f"got {unfrozen_layers}"
            )
        patch = patch_len or input_len
        if not 1 <= patch <= input_len:
            raise ValueError(f"patch_len must lie in [1, {input_len}], got {patch_len}")
        self.num_nodes = num_nodes
        self.output_len = output_len
        self.num_features = num_features
        self.steps_per_day = steps_per_day
        self.patch_len = patch
        self.num_patches = input_len // patch
        self.position_encoding = position_encoding
        self.unfrozen_layers = unfrozen_layers
        self.full_tune = full_tune
        self.balance_weight = balance_weight
        width = backbone.width
        self.series = nn.Linear(patch * num_features, embed_dim)
        self.node = nn.Parameter(torch.empty(num_nodes, embed_dim))
        self.time_of_day = nn.Parameter(torch.empty(steps_per_day, embed_dim))
        self.day_of_week = nn.Parameter(torch.empty(7, embed_dim))
        self.fuse = nn.Linear(3 * embed_dim, width)
        tokens = num_nodes * self.num_patches
        self.position = (
            nn.Parameter(torch.empty(tokens, width)) if position_encoding == "absolute" else None
        )
        self.backbone = PretrainedTransformer(
            backbone,
            num_nodes,
            spatial_positions,
            rotary=position_encoding == "rotary",
            memory_layers=memory_layers if memory else 0,
            pretrained=pretrained,
            dropout=dropout,
        )
        self.head = nn.Linear(self.num_patches * width, output_len * num_features)
        self.register_buffer(
            "token_node", torch.arange(num_nodes).repeat_interleave(self.num_patches), False
        )
        self.register_buffer("token_time", torch.arange(self.num_patches).repeat(num_nodes), False)
        self.auxiliary_loss: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform embeddings, default linear maps, the backbone's own weights again,
        positions from the backbone's table."""
        for table in (self.node, self.time_of_day, self.day_of_week):
            nn.init.xavier_uniform_(table)
        for linear in (self.series, self.fuse, self.head):
            linear.reset_parameters()
        self.backbone.reset_parameters()
        if self.position is not None:
            with torch.no_grad():
                nn.init.normal_(self.position, std=0.02)
                table = self.backbone.weights.positions
                rows = min(len(table), len(self.position))
                if self.backbone.pretrained:
                    self.position[:rows] = table[:rows]

    @property
    def trainable_patterns(self) -> list[str] | None:
        """Parameter-name patterns that train under PFA (``None``: all, with ``full_tune``)."""
        if self.full_tune:
            return None
        top = range(self.backbone.depth - self.unfrozen_layers, self.backbone.depth)
        return [
            "series.*",
            "node",
            "time_of_day",
            "day_of_week",
            "fuse.*",
            "position",
            "head.*",
            "backbone.input_norm.*",
            "backbone.final_norm.*",
            "backbone.blocks.*.norm1.*",
            "backbone.blocks.*.norm2.*",
            "backbone.blocks.*.attention.rotary.log_scale",
            "backbone.blocks.*.memory.*",
            *(f"backbone.blocks.{i}.attention.qkv.*" for i in top),
            *(f"backbone.blocks.{i}.attention.out.*" for i in top),
        ]

    def embed(self, batch: dict[str, Tensor]) -> Tensor:
        """Token embeddings ``[B, N * P, C]`` (node-major: node 0's patches first)."""
        x = batch["x"]
        b, length, n, f = x.shape
        used = self.num_patches * self.patch_len
        patches = x[:, length - used :].permute(0, 2, 1, 3).reshape(b, n, self.num_patches, -1)
        tod, dow = calendar_slots(batch, self.steps_per_day)
        time = (self.time_of_day[tod] + self.day_of_week[dow])[:, None, None]
        parts = (
            self.series(patches),
            self.node[None, :, None].expand(b, -1, self.num_patches, -1),
            time.expand(-1, n, self.num_patches, -1),
        )
        h = self.fuse(torch.cat(parts, dim=-1)).reshape(b, n * self.num_patches, -1)
        h = h.float()  # the residual stream stays fp32 under autocast, in every variant
        return h + self.position if self.position is not None else h

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, H, N, F]``."""
        h = self.backbone(self.embed(batch), self.token_time, self.token_node)
        b = h.shape[0]
        out = self.head(h.reshape(b, self.num_nodes, -1))
        memory_loss = self.backbone.memory_loss()
        self.auxiliary_loss = None if memory_loss is None else self.balance_weight * memory_loss
        return out.view(b, self.num_nodes, self.output_len, self.num_features).transpose(1, 2)
