"""Reading input files and writing output files so that neither can hurt the user.

Inputs: only a regular file is read, and at most a size limit of it, checked before parsing, so
a folder, a device or a named pipe given as a file is an error at once instead of a hang or an
endless read.

Outputs: every file is written to a fresh temporary name in its folder (created exclusively, never
through a symbolic link), flushed to disk, then renamed over the target in one step. A reader
sees the old file or the new one, never half of one; a symbolic link planted at the target is
replaced, never followed; two processes writing the same file never share a temporary file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

# A scenario of every knob with comments is a few kilobytes; a megabyte is a mistake.
MAX_SCENARIO_BYTES = 1_000_000
# A points file of the largest sweep we allow (see experiment.design.MAX_POINTS) fits easily.
MAX_TABLE_BYTES = 50_000_000

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.replace in os.supports_dir_fd and os.open in os.supports_dir_fd
TMP_SUFFIX = ".tmp"


class FileProblem(ValueError):
    """Why a file cannot be read or written, in words for the user (no path: the caller adds
    it with the option or file it came from)."""


def read_text(path: str | Path, limit: int = MAX_SCENARIO_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; `FileProblem` otherwise."""
    try:
        return read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem("is not UTF-8 text") from None


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; `FileProblem` otherwise.

    Opened without blocking, so a named pipe with no writer cannot stall us, and checked with
    ``fstat`` on the open file (not the name), so what is checked is what is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC)
    except FileNotFoundError:
        raise FileProblem("file not found") from None
    except IsADirectoryError:
        raise FileProblem("is a folder, not a file") from None
    except PermissionError:
        raise FileProblem("permission denied") from None
    except OSError as exc:
        raise FileProblem(f"cannot open it ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("is not a regular file (a device, pipe or socket); give a file")
        if info.st_size > limit:
            raise FileProblem(f"is {info.st_size:,} bytes; at most {limit:,} are read")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise FileProblem(f"cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise FileProblem(f"is more than {limit:,} bytes; at most {limit:,} are read")
    return data


class Folder:
    """An output folder, opened once; every write inside it is atomic and never follows a link.

    Use as a context manager (`open_folder`). ``path`` is the folder as given.
    """

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def names(self) -> list[str]:
        """What the folder holds, sorted."""
        return sorted(os.listdir(self._fd if self._fd is not None else self.path))

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry ``name`` itself (a link is not followed), or None when there is none."""
        try:
            if self._fd is not None:
                return os.stat(name, dir_fd=self._fd, follow_symlinks=False)
            return os.lstat(self.path / name)
        except FileNotFoundError:
            return None

    def is_link(self, name: str) -> bool:
        info = self.lstat(name)
        return info is not None and stat.S_ISLNK(info.st_mode)

    def write(self, name: str, fill: Callable[[IO[bytes]], Any]) -> Path:
        """Write ``name`` atomically: ``fill`` gets a fresh binary file to write into."""
        tmp = f".{name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        fd = (
            os.open(tmp, flags, 0o644, dir_fd=self._fd)
            if self._fd is not None
            else os.open(self.path / tmp, flags, 0o644)
        )
        try:
            with os.fdopen(fd, "wb") as fh:
                fill(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if self._fd is not None:
                os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
                os.fsync(self._fd)
            else:
                os.replace(self.path / tmp, self.path / name)
        except BaseException:
            with contextlib.suppress(OSError):
                self.remove(tmp)
            raise
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda fh: fh.write(text.encode("utf-8")))

    def write_json(self, name: str, doc: Any) -> Path:
        return self.write_text(name, json.dumps(doc, indent=2, default=str) + "\n")

    def write_csv(self, name: str, frame: Any, **kwargs: Any) -> Path:
        """A pandas DataFrame as CSV (``kwargs`` go to ``to_csv``)."""

        def fill(fh: IO[bytes]) -> None:
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            frame.to_csv(text, **kwargs)
            text.flush()
            text.detach()

        return self.write(name, fill)

    def write_parquet(self, name: str, frame: Any, **kwargs: Any) -> Path:
        return self.write(name, lambda fh: frame.to_parquet(fh, **kwargs))

    def open_read(self, name: str) -> IO[bytes]:
        """The file ``name`` opened for reading (never through a link)."""
        flags = os.O_RDONLY | _NOFOLLOW | _CLOEXEC
        fd = (
            os.open(name, flags, dir_fd=self._fd)
            if self._fd is not None
            else os.open(self.path / name, flags)
        )
        return os.fdopen(fd, "rb")

    def open_lock_file(self, name: str) -> int:
        """A descriptor of the file ``name`` (created when missing, never through a link)."""
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC
        if self._fd is not None:
            return os.open(name, flags, 0o644, dir_fd=self._fd)
        return os.open(self.path / name, flags, 0o644)

    def remove(self, name: str) -> None:
        if self._fd is not None:
            os.unlink(name, dir_fd=self._fd)
        else:
            os.unlink(self.path / name)

    def remove_stale_temporaries(self) -> None:
        """Drop temporary files a killed writer left behind (ours only: ``.NAME.HEX.tmp``)."""
        for name in self.names():
            if name.startswith(".") and name.endswith(TMP_SUFFIX) and name.count(".") >= 3:
                with contextlib.suppress(OSError):
                    self.remove(name)


def write_file(path: str | Path, data: bytes) -> Path:
    """Write one file atomically (its folder is created when missing); a symbolic link at
    ``path`` is replaced, not followed. `FileProblem` if the folder cannot be used."""
    path = Path(path)
    with open_folder(path.parent if str(path.parent) else Path(".")) as folder:
        folder.write(path.name, lambda fh: fh.write(data))
    return path


MARKER = ".funnelsim"
# Files funnelsim wrote before the marker existed, and what they hold.
_LEGACY = {"run.json": "funnelsim run", "manifest.json": "funnelsim sweep"}


def owner(folder: Folder) -> str | None:
    """What funnelsim wrote in this folder ("funnelsim run", "funnelsim sweep", ...), or None."""
    for name in (MARKER, *_LEGACY):
        info = folder.lstat(name)
        if info is None or not stat.S_ISREG(info.st_mode):
            continue
        try:
            doc = json.loads(read_bytes(folder.path / name, MAX_SCENARIO_BYTES))
        except (FileProblem, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        if name == MARKER and isinstance(kind, str):
            return kind
        if name != MARKER and ("funnelsim_version" in doc or kind == _LEGACY[name]):
            return _LEGACY[name]
    return None


def claim(folder: Folder, kind: str, overwrite: bool = False, mark: bool = True) -> None:
    """Make ``folder`` one funnelsim may write ``kind`` results into, or raise `FileProblem`.

    An empty folder, or one funnelsim wrote the same kind of results into, is claimed: the
    marker file ``.funnelsim`` says so from now on, before anything else is written (so a kill
    at any moment leaves a folder the same command accepts). Anything else is refused unless
    ``overwrite``. ``mark=False`` only checks.
    """
    found = owner(folder)
    if found is None:
        foreign = [n for n in folder.names() if not (n.startswith(".") and n.endswith(TMP_SUFFIX))]
        if foreign and not overwrite:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise FileProblem(
                f"holds files funnelsim did not write ({shown}); choose an empty or new folder, "
                "or pass --overwrite (overwrite=True in Python) to write into it anyway, "
                "replacing files of the same names"
            )
    elif found != kind and not overwrite:
        raise FileProblem(
            f"holds a {found}, not a {kind}; choose another folder, or pass --overwrite "
            "(overwrite=True in Python) to write into it anyway"
        )
    marked = folder.lstat(MARKER)
    if mark and (found != kind or marked is None or not stat.S_ISREG(marked.st_mode)):
        from . import __version__

        folder.write_json(MARKER, {"kind": kind, "funnelsim_version": __version__})


def check_folder_path(path: str | Path) -> Path:
    """``path`` when it can be an output folder (missing, or a real folder); `FileProblem` when
    it is a file or a symbolic link (which a write would follow)."""
    path = Path(path)
    if path.is_symlink():
        raise FileProblem(
            f"is a symbolic link (to {os.readlink(path)}); funnelsim never writes through a link: "
            "give the folder it points to"
        )
    if path.exists() and not path.is_dir():
        raise FileProblem("is a file; give a folder (it is created if missing)")
    return path


@contextlib.contextmanager
def open_folder(path: str | Path, create: bool = True) -> Iterator[Folder]:
    """The output folder at ``path`` (created with its parents when missing), held open by a
    descriptor so that every write lands in this very folder; `FileProblem` if it cannot be."""
    path = check_folder_path(path)
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC) if _DIR_FD else None
    except OSError as exc:
        raise FileProblem(f"cannot create or open the folder ({exc.strerror or exc})") from None
    folder = Folder(path, fd)
    try:
        yield folder
    finally:
        folder.close()
