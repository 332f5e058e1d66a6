"""A Hugging Face CLIP vision tower's weights in OpenAI's / OpenCLIP's key layout.

``CLIPVisionModelWithProjection`` (or ``CLIPModel``) keeps separate ``q/k/v`` projections,
names its norms ``layer_norm1/2``, ``pre_layrnorm`` and ``post_layernorm``, and stores the
projection as a ``Linear`` (out x in). OpenAI's layout packs ``q, k, v`` into one
``in_proj_weight`` and keeps ``proj`` as an (in x out) matrix. The converted dict loads
into :class:`~vsdmot.semantics.clip.vit.VisionTransformer` (with QuickGELU, Hugging Face's
``hidden_act="quick_gelu"`` default) and gives the same embeddings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import Tensor

#: Hugging Face name (after ``vision_model.``) -> OpenAI name, outside the blocks.
_TOP = {
    "embeddings.class_embedding": "class_embedding",
    "embeddings.patch_embedding.weight": "conv1.weight",
    "embeddings.position_embedding.weight": "positional_embedding",
    "pre_layrnorm.weight": "ln_pre.weight",
    "pre_layrnorm.bias": "ln_pre.bias",
    "post_layernorm.weight": "ln_post.weight",
    "post_layernorm.bias": "ln_post.bias",
}
#: Inside ``encoder.layers.<i>.``; q/k/v are packed separately.
_BLOCK = {
    "self_attn.out_proj": "attn.out_proj",
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}
_QKV = r"encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)"
#: Buffers Hugging Face keeps that carry no weights.
_IGNORED = ("embeddings.position_ids",)


def hf_vision_to_openclip(
    state: Mapping[str, Tensor], prefix: str = "visual."
) -> dict[str, Tensor]:
    """Convert a Hugging Face CLIP vision state dict (``vision_model.*`` and
    ``visual_projection.weight``; text weights, if any, are ignored) to OpenAI's key
    layout, each key starting with ``prefix`` (``"visual."`` as in a full CLIP state
    dict, ``""`` for the tower alone). Raises ``ValueError`` on a key it cannot place.

    >>> from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    >>> cfg = CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
    ...                        num_attention_heads=2, patch_size=8, image_size=16,
    ...                        projection_dim=8)
    >>> out = hf_vision_to_openclip(CLIPVisionModelWithProjection(cfg).state_dict())
    >>> out["visual.transformer.resblocks.0.attn.in_proj_weight"].shape, out["visual.proj"].shape
    (torch.Size([48, 16]), torch.Size([16, 8]))
    """
    out: dict[str, Tensor] = {}
    qkv: dict[tuple[int, str], dict[str, Tensor]] = {}
    for key, value in state.items():
        if key == "visual_projection.weight":
            out["proj"] = value.t().contiguous()
            continue
        if not key.startswith("vision_model."):
            continue  # the text tower and logit scale of a full CLIPModel
        name = key[len("vision_model.") :]
        if name in _IGNORED:
            continue
        if name in _TOP:
            out[_TOP[name]] = value
        elif m := re.fullmatch(_QKV, name):
            qkv.setdefault((int(m.group(1)), m.group(3)), {})[m.group(2)] = value
        else:
            out[_block_key(name, key)] = value
    for (index, kind), parts in qkv.items():
        if parts.keys() != {"q", "k", "v"}:
            raise ValueError(f"block {index}: {kind} of q/k/v incomplete ({sorted(parts)})")
        packed = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
        out[f"transformer.resblocks.{index}.attn.in_proj_{kind}"] = packed
    if "proj" not in out:
        raise ValueError("no visual_projection.weight: not a CLIP vision tower with projection")
    return {f"{prefix}{k}": v for k, v in out.items()}


def _block_key(name: str, key: str) -> str:
    m = re.fullmatch(r"encoder\.layers\.(\d+)\.(.+)\.(weight|bias)", name)
    if m is None or m.group(2) not in _BLOCK:
        raise ValueError(f"{key}: no OpenAI counterpart for this Hugging Face key")
    return f"transformer.resblocks.{m.group(1)}.{_BLOCK[m.group(2)]}.{m.group(3)}"
