"""Writing result files so that a kill never leaves half a file, and choosing out dirs.

Every file is written to a hidden temporary beside it and renamed over the old one, so a reader
(or a process killed mid-write) only ever sees the old or the new file. Files get the mode the
user's umask asks for, like any file the user's programs create.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui_lab.errors import ExportError
from tui_lab.results.columns import Columns


def _read_umask() -> int:
    """The process umask, read without changing it where Linux tells it (threads may run)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_read_umask()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed over ``path`` on success,
    removed on failure. OS errors (a full disk) become one ``ExportError`` paragraph."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise _write_error(path, exc) from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> ExportError:
    return ExportError(
        f"Cannot write {path}: {exc.strerror or exc}. Free some disk space or choose another "
        "--out directory; files already written there are complete and were kept."
    )


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers only ever see the old or the new file."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def csv_text(columns: Columns | list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    names = columns.names if isinstance(columns, Columns) else columns
    writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in names})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def read_csv(path: Path, columns: Columns) -> list[dict[str, Any]]:
    """The rows of a result file, typed by its columns ([] when the file does not exist)."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [columns.typed(row) for row in csv.DictReader(fh)]


def default_out_dir(preset: str) -> Path:
    """``runs/<preset>-<timestamp>``, with a suffix when that name is already taken."""
    base = Path("runs") / f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def prepare_out_dir(path: Path, resume: bool = False) -> Path:
    """Create the out dir; an existing non-empty one is never overwritten (unless resuming)."""
    path = Path(path)
    if path.exists() and any(path.iterdir()) and not resume:
        raise ExportError(
            f"The out directory {path} already exists and is not empty; tui-lab never "
            "overwrites results. Choose another --out, or remove that directory."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("**/.*.tmp"):  # half-written by a process killed mid-write
            stale.unlink()
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ExportError(
            f"Cannot write to the out directory {path}: {exc.strerror or exc}. Choose a "
            "writable --out directory."
        ) from None
    return path
