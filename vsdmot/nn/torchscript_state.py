"""The tensors of a TorchScript archive, read without running any of it.

``torch.jit.load`` compiles and runs the archive's ``code/``: loading an untrusted file
that way runs its code. OpenAI's released CLIP ``.pt`` files are such archives, so they
are read here as data instead: the archive is a zip whose ``data.pkl`` pickles the
module tree (one object per module, its attributes in a dict) with the tensors' bytes in
``data/<key>`` records. A restricted unpickler rebuilds only tensors and plain
containers; every module object becomes an inert :class:`ScriptObject` holding its
attribute dict, and any other global the pickle names is refused before it is called.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

#: ``torch.<Name>Storage`` globals of a TorchScript pickle and the dtype of their records.
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


#: What reading a damaged archive raises: the unpickler's own errors on a truncated or
#: malformed pickle, the zip's on a bad record, torch's on a tensor that does not fit.
_DAMAGE = (pickle.UnpicklingError, EOFError, AttributeError, OverflowError, IndexError,
           KeyError, TypeError, ValueError, RuntimeError, RecursionError, zipfile.BadZipFile,
           zlib.error)  # fmt: skip


class ScriptObject:
    """An inert stand-in for a pickled TorchScript module: its attributes, nothing else."""

    def __setstate__(self, state: Any) -> None:
        self.attributes = dict(state) if isinstance(state, dict) else {}


class _StorageType:
    """What ``torch.<Name>Storage`` resolves to here: only the dtype, never torch's class."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


class RefusedGlobalError(pickle.UnpicklingError):
    """The archive's pickle names a global other than tensors, containers and modules:
    loading it as ``torch.jit.load`` does could run code."""


def _rebuild_tensor(
    storage: torch.Tensor, offset: int, size: tuple, stride: tuple, *_: Any
) -> torch.Tensor:
    """``torch._utils._rebuild_tensor_v2`` on a flat tensor of the storage's elements
    (``requires_grad``, hooks and metadata are dropped: weights are all that is read)."""
    if not isinstance(storage, torch.Tensor):
        raise ValueError("a tensor without a storage record")
    return torch.as_strided(storage, tuple(size), tuple(stride), int(offset))


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves a fixed list of globals; anything else raises before it can be called.

    A pickle can also set attributes on what it has resolved (``BUILD``), so nothing it
    receives outlives this unpickler: module objects are instances of a class made for
    this load, and the rebuild functions are closures made for this load (a bound method
    would not do: its attributes are those of the function every load shares).
    """

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._script_class = type("ScriptObject", (ScriptObject,), {})

        def rebuild_tensor(*args: Any) -> torch.Tensor:
            return _rebuild_tensor(*args)

        def rebuild_parameter(data: torch.Tensor, *_: Any) -> torch.Tensor:
            return data

        self._allowed = {
            ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
            ("torch._utils", "_rebuild_tensor"): rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
            ("collections", "OrderedDict"): collections.OrderedDict,
        }

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return self._script_class
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        raise RefusedGlobalError(f"refused global {module}.{name}")

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise ValueError(f"unexpected persistent id {pid!r}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType):
            raise ValueError(f"unexpected storage type {kind!r}")
        raw = self._archive.read(f"{self._prefix}data/{key}")
        if not raw:
            return torch.empty(0, dtype=kind.dtype)
        flat = torch.frombuffer(bytearray(raw), dtype=kind.dtype)
        if flat.numel() < int(numel):
            raise ValueError(f"record data/{key} is shorter than its {numel} items")
        return flat


def archive_prefix(archive: zipfile.ZipFile) -> str | None:
    """The folder holding ``data.pkl`` when the zip is a TorchScript archive (it has
    ``code/`` or ``constants.pkl`` beside it), else None (e.g. a ``torch.save`` zip)."""
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        return None
    prefix = pickles[0][: -len("data.pkl")]
    scripted = any(n.startswith(f"{prefix}code/") for n in names)
    return prefix if scripted or f"{prefix}constants.pkl" in names else None


def is_torchscript_archive(path: str | Path) -> bool:
    """True for a zip laid out as ``torch.jit.save`` writes it."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return archive_prefix(archive) is not None
    except (zipfile.BadZipFile, OSError):  # a damaged zip: left to the next reader to name
        return False


def read_torchscript_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensor attributes of a TorchScript archive's module tree, keyed as
    ``state_dict()`` keys them (``visual.conv1.weight``), without running the archive.

    Raises :class:`RefusedGlobalError` when the pickle names anything but tensors, plain
    containers and module objects, and ``ValueError`` when the file is no such archive or
    a damaged one (a truncated pickle, a missing or short record, a malformed entry).
    """
    with zipfile.ZipFile(path) as archive:
        prefix = archive_prefix(archive)
        if prefix is None:
            raise ValueError(f"{path}: not a TorchScript archive (no data.pkl beside code/)")
        if f"{prefix}byteorder" in archive.namelist():
            order = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
            if order != "little":
                raise ValueError(f"{path}: {order}-endian tensor records are not supported")
        try:
            root = _RestrictedUnpickler(archive.read(f"{prefix}data.pkl"), archive, prefix).load()
        except RefusedGlobalError:
            raise
        except _DAMAGE as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise ValueError(f"{path}: damaged TorchScript archive ({detail})") from None
    if not isinstance(root, ScriptObject):
        raise ValueError(f"{path}: the archive's data.pkl holds no module")
    try:
        return dict(_tensors(root, ""))
    except RecursionError:
        raise ValueError(f"{path}: the archive's module tree is nested too deeply") from None


def _tensors(obj: ScriptObject, prefix: str, seen: set[int] | None = None) -> Iterator:
    """``(dotted name, tensor)`` for every tensor attribute below ``obj``, depth first."""
    seen = set() if seen is None else seen
    if id(obj) in seen:  # a well-formed module tree has no cycles; a crafted one might
        return
    seen.add(id(obj))
    for name, value in getattr(obj, "attributes", {}).items():
        if isinstance(value, torch.Tensor):
            yield f"{prefix}{name}", value
        elif isinstance(value, ScriptObject):
            yield from _tensors(value, f"{prefix}{name}.", seen)
