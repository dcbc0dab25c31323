"""Reusable spatial layers for PyG models; imports only torch and torch_geometric."""

from stgraph.nn.centrality_encoding import CentralityEncoding
from stgraph.nn.deep_prompt import DeepPromptTokens
from stgraph.nn.distance_bias import DistanceBias
from stgraph.nn.hop_bias import HopBias
from stgraph.nn.mask_token_prompt import MaskTokenPrompt
from stgraph.nn.memory_retrieval import MemoryRetrievalFFN, load_balancing_loss
from stgraph.nn.prompt_alignment import PromptAlignment
from stgraph.nn.recompute import recompute_in_chunks
from stgraph.nn.revin import RevIN
from stgraph.nn.rotary import RotaryEmbedding, SpatialRotaryEmbedding
from stgraph.nn.spatial_bias_attention import SpatialBiasAttention
from stgraph.nn.spatial_rotary_attention import SpatialRotaryAttention
from stgraph.nn.spatial_transformer_block import SpatialTransformerBlock

__all__ = [
    "CentralityEncoding",
    "DeepPromptTokens",
    "DistanceBias",
    "HopBias",
    "MaskTokenPrompt",
    "MemoryRetrievalFFN",
    "PromptAlignment",
    "RevIN",
    "RotaryEmbedding",
    "SpatialBiasAttention",
    "SpatialRotaryAttention",
    "SpatialRotaryEmbedding",
    "SpatialTransformerBlock",
    "load_balancing_loss",
    "recompute_in_chunks",
]
