r"""PT-Tuning: masked-patch pretraining with a kept mask token, forecasting by prompt tokens on
extended mask tokens (`Liu et al., DASFAA 2024 <https://arxiv.org/abs/2311.03768>`_).

No public code exists; the choices the paper leaves open are made here and named in
:class:`PTTuning`'s docstring.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from stgraph.nn import MaskTokenPrompt, RevIN

FORECAST_PATHS = ("reconstruction", "head")


class PTTuning(nn.Module):
    r"""Channel-independent masked-patch transformer with a learnable mask token.

    Every node (variable) is a separate series. A window :math:`x \in \mathbb{R}^{L}` is
    normalised by RevIN (per window, no affine map), cut into :math:`P = \lfloor (L - p) / s
    \rfloor + 1` patches of length :math:`p` with stride :math:`s`, and each patch is embedded
    linearly and given the fixed sinusoidal position encoding :math:`e_j` (fixed, so that the
    positions of the extended mask tokens continue the history's with encodings of the same
    kind, although pretraining never saw them):

    .. math::
        z_j = W x_{[js, js + p)} + e_j, \qquad j = 0 \ldots P - 1.

    **Pretraining** (:meth:`reconstruction_loss`) reads the whole training window, the history
    and its :math:`\lfloor H / p \rfloor` target patches (all from the training split),
    normalised by the history's statistics as at forecasting time, so the mask token and the
    encoder learn the very positions forecasting uses. It replaces a random share
    ``mask_ratio`` of the patch embeddings by the learned mask token :math:`m` (plus the
    position), runs the encoder (``layers`` transformer layers) and the light decoder
    (``decoder_layers`` layers and a linear map back to :math:`p` values), and scores the mean
    squared error on the masked patches only.

    **Forecasting by reconstruction** (``forecast_path="reconstruction"``, the ``pt-tuning``
    stage) appends :math:`F = \lceil H / p \rceil` mask tokens whose positions continue the
    history's (:math:`e_P \ldots e_{P+F-1}`), adds the trainable prompts element-wise
    (:class:`~stgraph.nn.MaskTokenPrompt`: one row per future patch, or one shared row),
    reconstructs all tokens and reads the forecast from the first :math:`H` values of the
    reconstructed future patches. Prompts start at zero, so before tuning the model forecasts
    exactly as it reconstructs.

    **Forecasting by a head** (``forecast_path="head"``: ``linear-probe``, ``finetune``,
    ``supervised``) flattens the encoder's history representation :math:`[P \cdot d]` and maps
    it to :math:`H` steps with a linear head, as PatchTST does.

    Choices the paper leaves open: sinusoidal positions (above); the encoder sees the mask
    tokens (as Ti-MAE and PatchTST; not MAE's encoder-on-visible-patches); the decoder is a
    small transformer; one mask token for all positions and channels; RevIN without affine
    map (so every pretrained weight can stay frozen); non-overlapping patches by default
    (PatchTST's self-supervised setting); ``finetune`` uses the head path, as PatchTST's
    fine-tuning does, so ``pt-tuning`` is compared with it. The width is half of PatchTST's
    self-supervised one (64 channels, 4 heads, feed-forward 128 against 128 / 16 / 512): four
    times cheaper, for two-core machines; PatchTST's own supervised ETTh1 setting is narrower
    still (16 channels).

    Args:
        input_len: history steps :math:`L`.
        output_len: forecast steps :math:`H`.
        patch_len: patch length :math:`p` (default: ``12``).
        stride: patch stride :math:`s` (default: ``None``: the patch length, non-overlapping).
        channels: model width :math:`d` (default: ``64``).
        heads: attention heads (default: ``4``).
        layers: encoder layers (default: ``3``).
        decoder_layers: decoder layers (default: ``1``).
        ff_channels: feed-forward width (default: ``128``).
        dropout: dropout (default: ``0.2``).
        mask_ratio: share of history patches masked in pretraining (default: ``0.4``).
        prompt: ``"per-patch"`` (one prompt row per future patch) or ``"shared"`` (one row for
            all) (default: ``"per-patch"``).
        forecast_path: ``"reconstruction"`` or ``"head"`` (default: ``"reconstruction"``).
    """

    def __init__(
        self,
        input_len: int,
        output_len: int,
        patch_len: int = 12,
        stride: int | None = None,
        channels: int = 64,
        heads: int = 4,
        layers: int = 3,
        decoder_layers: int = 1,
        ff_channels: int = 128,
        dropout: float = 0.2,
        mask_ratio: float = 0.4,
        prompt: str = "per-patch",
        forecast_path: str = "reconstruction",
    ) -> None:
        super().__init__()
        if output_len < 1:
            raise ValueError(f"the horizon must be positive, got {output_len}")
        stride = patch_len if stride is None else stride
        if patch_len < 1 or stride < 1:
            raise ValueError(f"patch length and stride must be positive, got {patch_len}, {stride}")
        if input_len < patch_len:
            raise ValueError(
                f"the context ({input_len} steps) must hold at least one patch of {patch_len}"
            )
        if prompt not in ("per-patch", "shared"):
            raise ValueError(f"prompt must be 'per-patch' or 'shared', got '{prompt}'")
        if forecast_path not in FORECAST_PATHS:
            raise ValueError(f"forecast_path must be one of {FORECAST_PATHS}")
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must lie in (0, 1), got {mask_ratio}")
        self.input_len, self.output_len = input_len, output_len
        self.patch_len, self.stride = patch_len, stride
        self.num_patches = (input_len - patch_len) // stride + 1
        self.future_patches = math.ceil(output_len / patch_len)
        self.mask_ratio = mask_ratio
        self.prompt_shape = prompt
        self.forecast_path = forecast_path
        self.revin = RevIN(1, affine=False)
        self.embed = nn.Linear(patch_len, channels)
        self.register_buffer(
            "position",
            sinusoidal_positions(self.num_patches + self.future_patches, channels),
            persistent=False,
        )
        self.mask_prompt = MaskTokenPrompt(
            channels, self.future_patches if prompt == "per-patch" else 1
        )
        self.encoder = _transformer(channels, heads, ff_channels, dropout, layers)
        self.decoder = _transformer(channels, heads, ff_channels, dropout, decoder_layers)
        self.reconstruct = nn.Linear(channels, patch_len)
        self.head = nn.Linear(self.num_patches * channels, output_len)
        self.reset_parameters()

    fresh_parameters = ("head.*", "mask_prompt.prompt")
    """Parameters a stage starts afresh rather than take from a checkpoint: the horizon's head
    and prompts (their shapes follow the horizon; pretraining never trains them)."""

    def reset_parameters(self) -> None:
        """Re-initialise every submodule."""
        for module in (self.embed, self.reconstruct, self.head, self.mask_prompt, self.revin):
            module.reset_parameters()
        for stack in (self.encoder, self.decoder):
            for layer in stack.layers:
                for child in layer.modules():
                    if child is not layer and hasattr(child, "_reset_parameters"):
                        child._reset_parameters()
                    elif child is not layer and isinstance(child, (nn.Linear, nn.LayerNorm)):
                        child.reset_parameters()

    def config(self) -> dict:
        """The constructor arguments that fix the shapes of the weights (for checkpoints)."""
        return {
            "input_len": self.input_len,
            "patch_len": self.patch_len,
            "stride": self.stride,
            "channels": self.embed.out_features,
            "layers": len(self.encoder.layers),
            "decoder_layers": len(self.decoder.layers),
        }

    def _series(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``[B, L, N, 1]`` → RevIN-normalised series ``[B * N, L]`` and the statistics."""
        b, length, n, _ = x.shape
        series = x.permute(0, 2, 1, 3).reshape(b * n, length, 1)
        normalised, stats = self.revin.normalize(series)
        return normalised.squeeze(-1), stats

    def _patches(self, series: Tensor) -> Tensor:
        """``[S, L]`` → ``[S, P, p]`` (the last ``L - ((P-1) s + p)`` leading steps dropped)."""
        start = series.size(1) - ((self.num_patches - 1) * self.stride + self.patch_len)
        return series[:, start:].unfold(1, self.patch_len, self.stride)

    def _reconstruct(self, tokens: Tensor) -> Tensor:
        """Encoder, decoder, and the map back to patch values: ``[S, T, d]`` → ``[S, T, p]``."""
        return self.reconstruct(self.decoder(self.encoder(tokens)))

    def reconstruction_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Pretraining loss: mean squared error on the masked patches only (masks drawn from
        the global random state, which the trainer seeds per epoch). The window is the history
        ``batch["x"]`` followed, when the batch carries them, by its target steps in the
        inputs' units (``batch["y_scaled"]`` ``[B, H, N, 1]``)."""
        series, stats = self._series(batch["x"])
        patches = self._patches(series)
        if "y_scaled" in batch:
            b, horizon, n, _ = batch["y_scaled"].shape
            future = batch["y_scaled"].permute(0, 2, 1, 3).reshape(b * n, horizon, 1)
            future = ((future - stats[0]) / stats[1]).squeeze(-1)  # the history's statistics
            whole = horizon // self.patch_len * self.patch_len
            future = future[:, :whole].unfold(1, self.patch_len, self.patch_len)
            patches = torch.cat((patches, future[:, : self.future_patches]), dim=1)
        tokens = self.embed(patches)
        masked = torch.rand(patches.shape[:2], device=patches.device) < self.mask_ratio
        masked[masked.sum(1) == 0, -1] = True  # at least one masked patch per series
        tokens = self.mask_prompt.mask(tokens, masked) + self.position[: patches.size(1)]
        error = (self._reconstruct(tokens) - patches).square().mean(-1)
        return error[masked].mean()

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Forecast ``[B, H, N, 1]`` (scaled units) from ``batch["x"]`` ``[B, L, N, 1]``."""
        b, _, n, _ = batch["x"].shape
        series, stats = self._series(batch["x"])
        tokens = self.embed(self._patches(series)) + self.position[: self.num_patches]
        if self.forecast_path == "head":
            forecast = self.head(self.encoder(tokens).flatten(1))
        else:
            future = self.mask_prompt.tokens().expand(self.future_patches, -1)
            future = future + self.position[self.num_patches :]
            tokens = torch.cat((tokens, future.expand(tokens.size(0), -1, -1)), dim=1)
            values = self._reconstruct(tokens)[:, self.num_patches :]
            forecast = values.flatten(1)[:, : self.output_len]
        forecast = self.revin.denormalize(forecast.unsqueeze(-1), stats)
        return forecast.view(b, n, self.output_len, 1).transpose(1, 2)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.input_len} -> {self.output_len}, "
            f"patches={self.num_patches}+{self.future_patches}, path={self.forecast_path})"
        )


def sinusoidal_positions(count: int, channels: int) -> Tensor:
    r"""Fixed encodings ``[count, channels]``: :math:`\sin` and :math:`\cos` of the position
    times :math:`10000^{-2i/d}` (Vaswani et al.)."""
    position = torch.arange(count, dtype=torch.float32)[:, None]
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, channels, 2) / channels)
    table = torch.zeros(count, channels)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: channels // 2])
    return table


def _transformer(
    channels: int, heads: int, ff_channels: int, dropout: float, layers: int
) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        channels, heads, ff_channels, dropout, batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
