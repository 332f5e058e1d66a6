"""A small Darknet reader: ``.cfg`` network descriptions and ``.weights`` files in PyTorch.

It supports the layer types of the YOLOv3 family (``convolutional``,
``maxpool``, ``upsample``, ``route``, ``shortcut``, ``yolo``), which covers
YOLOv3, YOLOv3-tiny and their variants, and writes weights back in Darknet's
format, so a network fine-tuned here still runs in any Darknet runtime
(OpenCV DNN among them).

Darknet semantics kept exactly, because weights depend on them:

- a convolution with ``batch_normalize=1`` stores, per output channel, the BN
  bias, scale, running mean and running variance, then the kernel; one
  without BN stores its bias, then the kernel;
- ``pad=1`` means ``size // 2`` padding;
- max pooling pads ``size - 1`` pixels in total (``(size - 1) // 2`` before),
  so YOLOv3-tiny's ``size=2, stride=1`` pool keeps the 13x13 grid;
- BN divides by ``sqrt(var + 1e-5)`` in current Darknet forks and OpenCV
  (the reference implementations the parity test checks against).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Layer types this reader builds; anything else is refused with the cfg line named.
SUPPORTED = ("net", "convolutional", "maxpool", "upsample", "route", "shortcut", "yolo")


class DarknetError(ValueError):
    """A Darknet cfg or weights file is unusable; the message names the file and the problem."""


@dataclass(frozen=True)
class Section:
    """One ``[kind]`` block of a cfg file with its ``key=value`` options (as text)."""

    kind: str
    options: dict[str, str]
    line: int

    def int(self, key: str, default: int | None = None) -> int:
        return int(self._get(key, default))

    def float(self, key: str, default: float | None = None) -> float:
        return float(self._get(key, default))

    def ints(self, key: str) -> list[int]:
        return [int(v) for v in self._get(key, None).split(",") if v.strip()]

    def _get(self, key: str, default: object) -> str:
        if key in self.options:
            return self.options[key]
        if default is None:
            raise KeyError(key)
        return str(default)


def parse_cfg(text: str, source: str = "<cfg>") -> list[Section]:
    """Sections of a Darknet cfg, in order; ``#`` and ``;`` start comments.

    >>> s = parse_cfg("[net]\\nwidth=416\\n# c\\n[maxpool]\\nsize = 2\\nstride=2")
    >>> [(x.kind, x.options) for x in s]
    [('net', {'width': '416'}), ('maxpool', {'size': '2', 'stride': '2'})]
    """
    sections: list[Section] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise DarknetError(f"{source}:{lineno}: malformed section header {raw!r}")
            sections.append(Section(line[1:-1].strip().lower(), {}, lineno))
            continue
        key, sep, value = line.partition("=")
        if not sep or not sections:
            raise DarknetError(
                f"{source}:{lineno}: expected key=value inside a section, got {raw!r}"
            )
        sections[-1].options[key.strip()] = value.strip()
    if not sections or sections[0].kind not in ("net", "network"):
        raise DarknetError(f"{source}: a Darknet cfg starts with a [net] section")
    for s in sections:
        if s.kind not in (*SUPPORTED, "network"):
            raise DarknetError(f"{source}:{s.line}: layer type [{s.kind}] is not supported")
    return sections


class ConvBlock(nn.Module):
    """Darknet ``[convolutional]``: conv, optional BN, activation."""

    def __init__(self, c_in: int, sec: Section) -> None:
        super().__init__()
        self.out_channels = sec.int("filters")
        size, stride = sec.int("size", 1), sec.int("stride", 1)
        pad = size // 2 if sec.int("pad", 0) else sec.int("padding", 0)
        for key in ("groups", "dilation"):
            if sec.int(key, 1) != 1:
                raise DarknetError(f"[convolutional] {key}={sec.options[key]} is not supported")
        self.batch_norm = bool(sec.int("batch_normalize", 0))
        self.cfg_batch_norm = self.batch_norm  # the file layout; fuse() does not change it
        self.conv = nn.Conv2d(c_in, self.out_channels, size, stride, pad, bias=not self.batch_norm)
        self.bn = nn.BatchNorm2d(self.out_channels, eps=1e-5) if self.batch_norm else None
        activation = sec.options.get("activation", "logistic")
        if activation == "leaky":
            self.act: nn.Module = nn.LeakyReLU(0.1)
        elif activation == "linear":
            self.act = nn.Identity()
        elif activation == "relu":
            self.act = nn.ReLU()
        elif activation == "logistic":
            self.act = nn.Sigmoid()
        else:
            raise DarknetError(f"cfg line {sec.line}: activation {activation!r} is not supported")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.act(x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold BN into the convolution (inference only: weights are written unfused)."""
        if self.bn is None:
            return
        bn = self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(
            self.conv.in_channels,
            self.conv.out_channels,
            self.conv.kernel_size,
            self.conv.stride,
            self.conv.padding,
            bias=True,
        )
        fused.weight.copy_(self.conv.weight * scale[:, None, None, None])
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        self.conv, self.bn, self.batch_norm = fused, None, False


class MaxPool(nn.Module):
    """Darknet ``[maxpool]`` with its asymmetric padding."""

    def __init__(self, size: int, stride: int) -> None:
        super().__init__()
        self.size, self.stride = size, stride
        total = size - 1
        self.pad = (total // 2, total - total // 2, total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, mode="replicate")  # max over a copy of an edge = -inf padding
        return F.max_pool2d(x, self.size, self.stride)


class Upsample(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.stride, mode="nearest")


@dataclass(frozen=True)
class YoloHead:
    """One ``[yolo]`` output: its anchors (pixels at the cfg's input size) and class count."""

    layer: int
    anchors: tuple[tuple[float, float], ...]
    classes: int
    scale_x_y: float = 1.0


@dataclass
class _Plan:
    kind: str
    sources: tuple[int, ...] = field(default_factory=tuple)  # absolute layer indices


class DarknetNet(nn.Module):
    """A network built from parsed cfg sections; ``forward`` returns the raw ``[yolo]`` maps.

    Each map has shape ``(B, A * (5 + classes), H, W)``, as Darknet lays them
    out. :func:`decode_yolo` turns them into boxes.
    """

    def __init__(self, sections: list[Section], source: str = "<cfg>") -> None:
        super().__init__()
        net = sections[0]
        self.source = source
        self.width = net.int("width", 416)
        self.height = net.int("height", 416)
        self.channels = net.int("channels", 3)
        self.layers = nn.ModuleList()
        self.plan: list[_Plan] = []
        self.heads: list[YoloHead] = []
        out_channels: list[int] = []
        c = self.channels
        for i, sec in enumerate(sections[1:]):
            module: nn.Module = nn.Identity()
            plan = _Plan(sec.kind)
            try:
                if sec.kind == "convolutional":
                    module = ConvBlock(c, sec)
                    c = module.out_channels
                elif sec.kind == "maxpool":
                    module = MaxPool(sec.int("size", 2), sec.int("stride", 2))
                elif sec.kind == "upsample":
                    module = Upsample(sec.int("stride", 2))
                elif sec.kind == "route":
                    if sec.int("groups", 1) != 1:
                        raise DarknetError("[route] groups (YOLOv4-tiny) is not supported")
                    plan.sources = tuple(_absolute(j, i) for j in sec.ints("layers"))
                    c = sum(out_channels[j] for j in plan.sources)
                elif sec.kind == "shortcut":
                    if sec.options.get("activation", "linear") != "linear":
                        raise DarknetError("only linear shortcuts are supported")
                    plan.sources = (_absolute(sec.int("from"), i),)
                elif sec.kind == "yolo":
                    self.heads.append(_yolo_head(i, sec, c))
            except (KeyError, IndexError, ValueError) as exc:
                if isinstance(exc, DarknetError):
                    raise DarknetError(f"{source}:{sec.line}: {exc}") from exc
                raise DarknetError(
                    f"{source}:{sec.line}: bad [{sec.kind}] section ({type(exc).__name__}: {exc})"
                ) from exc
            self.layers.append(module)
            self.plan.append(plan)
            out_channels.append(c)
        if not self.heads:
            raise DarknetError(f"{source}: no [yolo] layer; not a detector cfg")
        # Outputs later layers read, so forward keeps only those alive.
        self._keep = {j for p in self.plan for j in p.sources}

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.forward_features(x)[0]

    @property
    def neck_layers(self) -> tuple[int, ...]:
        """Per ``[yolo]`` head, the layer whose output the head's last convolution reads:
        the neck features that feature distillation aligns."""
        return tuple(h.layer - 2 for h in self.heads)

    def forward_features(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The raw ``[yolo]`` maps and the neck features (:attr:`neck_layers`), per head."""
        saved: dict[int, torch.Tensor] = {}
        outputs: list[torch.Tensor] = []
        necks = set(self.neck_layers)
        features: dict[int, torch.Tensor] = {}
        for i, (module, plan) in enumerate(zip(self.layers, self.plan, strict=True)):
            if plan.kind == "route":
                parts = [saved[j] for j in plan.sources]
                x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            elif plan.kind == "shortcut":
                x = x + saved[plan.sources[0]]
            elif plan.kind == "yolo":
                outputs.append(x)
            else:
                x = module(x)
            if i in self._keep:
                saved[i] = x
            if i in necks:
                features[i] = x
        return outputs, [features[i] for i in self.neck_layers]

    def conv_blocks(self) -> list[ConvBlock]:
        return [m for m in self.layers if isinstance(m, ConvBlock)]

    def fuse(self) -> DarknetNet:
        """Fold every BN into its convolution (faster inference); returns ``self``."""
        for block in self.conv_blocks():
            block.fuse()
        return self

    @property
    def num_classes(self) -> int:
        return self.heads[0].classes


def _absolute(j: int, i: int) -> int:
    k = i + j if j < 0 else j
    if not 0 <= k < i:
        raise DarknetError(f"layer reference {j} points outside 0..{i - 1}")
    return k


def _yolo_head(i: int, sec: Section, channels: int) -> YoloHead:
    if sec.int("new_coords", 0):
        raise DarknetError("[yolo] new_coords=1 (scaled-YOLOv4 decoding) is not supported")
    flat = [float(v) for v in sec.options["anchors"].split(",") if v.strip()]
    pairs = list(zip(flat[0::2], flat[1::2], strict=True))
    mask = sec.ints("mask") if "mask" in sec.options else list(range(len(pairs)))
    classes = sec.int("classes", 80)
    if any(not 0 <= m < len(pairs) for m in mask):
        raise DarknetError(f"mask {mask} indexes outside the {len(pairs)} anchors")
    if channels != len(mask) * (5 + classes):
        raise DarknetError(
            f"the layer before [yolo] has {channels} channels; "
            f"{len(mask)} anchors x (5 + {classes} classes) = {len(mask) * (5 + classes)} expected"
        )
    return YoloHead(i, tuple(pairs[m] for m in mask), classes, sec.float("scale_x_y", 1.0))


def build_darknet(cfg_text: str, source: str = "<cfg>") -> DarknetNet:
    """A :class:`DarknetNet` from cfg text (weights uninitialised: load them next)."""
    return DarknetNet(parse_cfg(cfg_text, source), source)


# --- weights ---------------------------------------------------------------------------

_HEADER = np.dtype([("major", "<i4"), ("minor", "<i4"), ("revision", "<i4")])


def load_darknet_weights(net: DarknetNet, data: bytes, source: str = "<weights>") -> None:
    """Fill ``net`` from the bytes of a Darknet ``.weights`` file.

    The file must hold exactly the parameters the cfg describes; any
    difference (another cfg's weights, a truncated download) is an error.
    """
    if len(data) < 16:
        raise DarknetError(f"{source}: {len(data)} bytes; not a Darknet weights file")
    head = np.frombuffer(data, _HEADER, count=1)[0]
    major, minor = int(head["major"]), int(head["minor"])
    if major > 1000 or minor > 1000:
        raise DarknetError(f"{source}: header version {major}.{minor}; not a Darknet weights file")
    seen_bytes = 8 if (major * 10 + minor) >= 2 else 4
    offset = 12 + seen_bytes
    if len(data) < offset:
        raise DarknetError(f"{source}: {len(data)} bytes, shorter than its own header")
    values = np.frombuffer(data, "<f4", offset=offset, count=(len(data) - offset) // 4)
    expected = sum(_conv_param_count(b) for b in net.conv_blocks())
    if values.size != expected:
        raise DarknetError(
            f"{source}: holds {values.size} parameters, the cfg {net.source} needs {expected} "
            "(weights of another network, or a truncated file)"
        )
    pos = 0
    with torch.no_grad():
        for block in net.conv_blocks():
            for tensor in _conv_tensors(block):
                n = tensor.numel()
                tensor.copy_(torch.from_numpy(values[pos : pos + n].copy()).view_as(tensor))
                pos += n


def darknet_weights_bytes(net: DarknetNet) -> bytes:
    """The network's parameters as a Darknet ``.weights`` file (version 0.2.0)."""
    if any(b.cfg_batch_norm and b.bn is None for b in net.conv_blocks()):
        raise DarknetError("a fused network cannot be written back; write it before fuse()")
    buf = io.BytesIO()
    buf.write(np.array([(0, 2, 0)], _HEADER).tobytes())
    buf.write(np.zeros(1, "<i8").tobytes())
    for block in net.conv_blocks():
        for tensor in _conv_tensors(block):
            buf.write(tensor.detach().float().cpu().numpy().astype("<f4").tobytes())
    return buf.getvalue()


def _conv_tensors(block: ConvBlock) -> list[torch.Tensor]:
    """Parameters of one block in Darknet's file order."""
    if block.bn is not None:
        bn = block.bn
        return [bn.bias, bn.weight, bn.running_mean, bn.running_var, block.conv.weight]
    assert block.conv.bias is not None
    return [block.conv.bias, block.conv.weight]


def _conv_param_count(block: ConvBlock) -> int:
    return sum(t.numel() for t in _conv_tensors(block))


# --- decoding ----------------------------------------------------------------------------


def decode_yolo(
    maps: list[torch.Tensor], heads: list[YoloHead], input_hw: tuple[int, int]
) -> torch.Tensor:
    """Raw ``[yolo]`` maps -> ``(B, N, 5 + C)``: cx, cy, w, h (pixels of the input), objectness,
    class probabilities (independent sigmoids, as Darknet).

    Anchors are in pixels of the network input, so they apply unchanged at
    any input size that is a multiple of the stride.
    """
    in_h, in_w = input_hw
    out = []
    for x, head in zip(maps, heads, strict=True):
        b, _, gh, gw = x.shape
        a = len(head.anchors)
        # Cell-major rows (y, x, anchor): the order OpenCV's Darknet importer emits.
        x = x.view(b, a, 5 + head.classes, gh, gw).permute(0, 3, 4, 1, 2)
        gy, gx = torch.meshgrid(
            torch.arange(gh, device=x.device, dtype=x.dtype),
            torch.arange(gw, device=x.device, dtype=x.dtype),
            indexing="ij",
        )
        gx, gy = gx[..., None], gy[..., None]
        anchors = torch.tensor(head.anchors, device=x.device, dtype=x.dtype).view(1, 1, 1, a, 2)
        s = head.scale_x_y
        xy = torch.sigmoid(x[..., :2]) * s - (s - 1) / 2
        cx = (xy[..., 0] + gx) * (in_w / gw)
        cy = (xy[..., 1] + gy) * (in_h / gh)
        wh = torch.exp(x[..., 2:4].clamp(max=20)) * anchors
        rest = torch.sigmoid(x[..., 4:])
        out.append(
            torch.cat([cx[..., None], cy[..., None], wh, rest], dim=-1).reshape(
                b, -1, 5 + head.classes
            )
        )
    return torch.cat(out, dim=1)


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DarknetError(f"{path}: cannot read the cfg ({exc})") from exc
