"""CLIP image towers written here (no ``clip`` / ``open_clip`` / torchvision needed).

:mod:`~vsdmot.semantics.clip.modified_resnet` (RN50, RN101, RN50x4, ...) and
:mod:`~vsdmot.semantics.clip.vit` (ViT-B/32, ViT-L/14, ...) rebuild the image towers of
OpenAI's ``clip/model.py`` with the same parameter names, so OpenAI's released files and
OpenCLIP's state dicts load as they are; :mod:`~vsdmot.semantics.clip.load` reads those
files safely (a TorchScript archive is read as data, never run) and infers the tower's
shape from its tensors; :mod:`~vsdmot.semantics.clip.convert` maps a Hugging Face CLIP
vision tower's weights to the same layout.
"""
