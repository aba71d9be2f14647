"""Writing result files so that a kill never leaves half a file, and reading them back.

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
        raise write_error(path, exc) from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_error(path: Path, exc: OSError) -> ExportError:
    return ExportError(
        f"Cannot write {path}: {exc.strerror or exc}. Free some disk space or choose another "
        "--out directory; files already written there are complete and were kept."
    )


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` so that readers only ever see the old or
    the new file, and the new one is on the disk before it replaces the old."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
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
    """The rows of a result file, typed by its columns ([] when the file does not exist); a
    row with more or fewer cells than the header (a file cut short) is a ValueError."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = []
        for row in reader:
            if None in row or None in row.values():
                raise ValueError(f"line {reader.line_num} of {path.name} is cut short or too long")
            rows.append(columns.typed(row))
        return rows
