"""Atomic file writes: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched. The
    temporary's name carries this process's id, so temporaries that a killed process
    left beside ``path`` are recognised and removed by the next write.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "a.txt") as f:
    ...     _ = f.write("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        # The rename below would replace a pipe, a device or a folder with a plain file.
        raise OSError(f"{path}: exists and is not a regular file; not replacing it")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    # mkstemp creates the file private (0600); give it the permissions open() would.
    os.chmod(tmp, default_file_mode())
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _remove_stale_temps(path: Path) -> None:
    """Remove the temporaries (files or folders) named ``.<name>.<pid>.<random>.tmp[.ext]``
    beside ``path`` whose process is gone: what a killed writer left behind."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp*"):
        parts = stale.name[len(path.name) + 2 :].split(".")
        ours = len(parts) in (3, 4) and parts[2] == "tmp" and parts[0].isdigit()
        if ours and not _pid_alive(int(parts[0])):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    stale.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (0o644 under umask 022)."""
    return 0o666 & ~_UMASK


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: do so once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Move a fully written temporary folder into place (replacing an old one).

    A backup left by a run killed mid-replace is removed first (it would make the
    rename fail for good).
    """
    final_dir = Path(final_dir)
    backup = final_dir.with_name(f".{final_dir.name}.old")
    if backup.exists():
        shutil.rmtree(backup)
    if final_dir.exists():
        os.replace(final_dir, backup)
        os.replace(tmp_dir, final_dir)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(tmp_dir, final_dir)


def make_temp_file(final: Path, suffix: str = "") -> Path:
    """An empty hidden temporary file beside ``final`` (``.<name>.<pid>.<random>.tmp<suffix>``,
    the suffix kept for writers that choose a format by extension), with the mode
    ``open()`` would give; files a killed run left behind are removed first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=f".tmp{suffix}",
                               dir=final.parent)  # fmt: skip
    os.close(fd)
    os.chmod(tmp, default_file_mode())
    return Path(tmp)


def make_temp_dir(final: Path) -> Path:
    """A hidden temporary folder beside ``final``, named with this process's id like
    :func:`atomic_write`'s files; folders a killed run left behind are removed first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent)
    )
    # mkdtemp makes the folder private (0700); once renamed into place it should have the
    # mode mkdir gives under the user's umask.
    os.chmod(tmp, 0o777 & ~_UMASK)
    return tmp
