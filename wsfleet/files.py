"""Small files wsfleet keeps for itself (caches): written whole or not at all, readable by the user
only, read back only when they are still the user's own, and the entries they replace removed."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable


def write_private(path: Path, content: str | bytes) -> None:
    """`content` (text, written as UTF-8, or bytes) into `path` atomically, mode 0600, its directory
    made 0700 when missing. A reader sees the old file or the new one, never half of one. OSError
    when the directory cannot be written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_private(path: Path) -> bytes:
    """The bytes of `path` when it is this user's own file and writable by no one else (what
    write_private made); ValueError otherwise, OSError when it cannot be read (FileNotFoundError
    when it is not there). A cache read through it cannot be planted by another user."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            raise ValueError(f"{path} is not this user's own file, or others can write it")
        return f.read()


STALE_TEMPORARY_S = 3600.0  # a write_private cut short (a kill between write and rename) leaves a .tmp- file


def remove_superseded(kept: Path, superseded: Callable[[str], bool]) -> None:
    """Beside `kept` (just written), remove every file whose name `superseded` says it replaced,
    and temporary files of write_private older than an hour. OSError when the directory cannot be
    listed or a file removed (callers log it: a leftover costs only disk)."""
    now = time.time()
    for other in kept.parent.iterdir():
        if other == kept:
            continue
        stale_tmp = other.name.startswith(".tmp-") and now - other.stat().st_mtime > STALE_TEMPORARY_S
        if stale_tmp or superseded(other.name):
            other.unlink(missing_ok=True)
