"""Out dirs: named under runs/, created exclusively, written by one process at a time.

A new out dir is made with ``mkdir``, which fails when the name exists, so two processes can
never both believe they made it. Whoever writes into an out dir (an export, a resume, a search)
first holds an exclusive ``flock`` on ``OUT/.lock``, which names its PID, until it releases
the dir; a second writer gets one paragraph naming that PID instead of mixing its results in.
The kernel drops the lock when its process dies, kill -9 included, so a stale ``.lock`` file
never blocks anyone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from pathlib import Path
from types import TracebackType

from tui_lab.errors import ExportError, ResumeError

RUNS_ROOT = Path("runs")
LOCK_NAME = ".lock"
MAX_NAME = 100  # characters of the preset name in a default dir name (a file name holds 255)


def dir_name(preset: str) -> str:
    """A preset name as one safe file name: ``runs/<name>-<time>`` stays under runs/ whatever
    the name says (``../../x``, ``/an/absolute/path``, 300 characters)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", preset).strip("._") or "experiment"
    return safe[:MAX_NAME]


class OutDir:
    """An out dir this process holds the lock of; ``release`` (or leaving the ``with`` block)
    unlocks it and removes the directories this process created for it (``created``, deepest
    first) that are still empty: a start that failed before writing anything leaves nothing
    behind."""

    def __init__(self, path: Path, lock_fd: int, created: list[Path]) -> None:
        self.path = path
        self.created = created
        self._fd: int | None = lock_fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:  # unlinked while still held: a process waiting on this file re-locks a new one
            (self.path / LOCK_NAME).unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None
        for directory in self.created:
            with contextlib.suppress(OSError):  # not empty: it holds results, keep it
                directory.rmdir()

    def __enter__(self) -> OutDir:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def claim_out_dir(out: Path | None, preset: str, *, resume: bool = False) -> OutDir:
    """The out dir to write into, locked: ``out``, or a new ``runs/<preset>-<time>``. A new
    export takes an existing dir only when it is empty; a resume needs one that exists."""
    if out is None:
        path, created = _new_default_dir(preset)
    elif resume:
        path, created = _existing_dir(Path(out)), []
    else:
        path, created = Path(out), _make_dir(Path(out))
    fd = _lock(path)
    claimed = OutDir(path, fd, created)
    try:
        if not (resume or created):
            _check_empty(path)
        for stale in path.glob("**/.*.tmp"):  # half-written by a process killed mid-write
            stale.unlink()
    except OSError as exc:
        claimed.release()
        raise _cannot_write(path, exc) from None
    except BaseException:
        claimed.release()
        raise
    return claimed


def _mkdir(path: Path) -> list[Path]:
    """Create ``path`` (FileExistsError if it exists) and its missing parents; returns the
    directories created, deepest first."""
    missing = [d for d in (path, *path.parents) if not d.exists()]
    path.mkdir(parents=True)
    return missing


def _new_default_dir(preset: str) -> tuple[Path, list[Path]]:
    base = RUNS_ROOT / f"{dir_name(preset)}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while True:
        try:
            return path, _mkdir(path)
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        except OSError as exc:
            raise _cannot_write(path, exc) from None


def _make_dir(path: Path) -> list[Path]:
    """Create ``path``, or accept an existing directory (nothing created)."""
    try:
        return _mkdir(path)
    except FileExistsError:
        if path.is_dir():
            return []
        raise ExportError(
            f"--out {path} exists and is not a directory (a file, a link to one or a device); "
            "tui-lab writes its results into a directory. Choose another --out directory."
        ) from None
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _existing_dir(path: Path) -> Path:
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise ResumeError(
            f"--resume {path}: {what}. Pass the --out directory of an earlier --export run."
        )
    return path


def _check_empty(path: Path) -> None:
    """Called under the lock: no other writer can fill the dir between the look and the
    writes."""
    if any(p.name != LOCK_NAME and not p.name.endswith(".tmp") for p in path.iterdir()):
        raise ExportError(
            f"The out directory {path} already exists and is not empty; tui-lab never "
            "overwrites results. Choose another --out, or remove that directory."
        )


def _lock(path: Path) -> int:
    """An exclusive lock on ``path/.lock`` holding this PID; ExportError naming the holder."""
    lock_path = path / LOCK_NAME
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ExportError(
                f"The out directory {path} is being written by another tui-lab process (PID "
                f"{holder}); two writers would mix their results. Wait for it to finish or stop "
                "it, then run again, or choose another --out directory."
            ) from None
        with contextlib.suppress(FileNotFoundError):
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)  # the holder released (and removed) it meanwhile: lock the new file
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as exc:
        os.close(fd)
        raise _cannot_write(path, exc) from None
    return fd


def _cannot_write(path: Path, exc: OSError) -> ExportError:
    return ExportError(
        f"Cannot write to the out directory {path}: {exc.strerror or exc}. Choose a writable "
        "--out directory (names up to 255 bytes, in a folder that exists or can be created)."
    )
