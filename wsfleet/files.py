"""Small files wsfleet keeps for itself (caches): written whole or not at all, readable by the user only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
