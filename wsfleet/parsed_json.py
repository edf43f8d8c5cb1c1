"""Big JSON files that never change between runs, parsed once and kept in marshal form.

botocore's service models and moto's data files are JSON that only an upgrade changes. Parsing
them is most of the CPU some commands spend before their first request: botocore's EC2 model (a
3.9 MB gzip) takes 50 ms to read and parse here, 65 ms with the `OrderedDict` botocore asks for,
and moto's EC2 backend parses 92 files (instance types, their offerings in every region, AMIs) as
it is imported. The same data read back with `marshal`, the format of Python's own bytecode
cache, takes 12 ms for the EC2 model.

`load(source, parse)` returns `parse()`'s value for the file `source`, from the cache when the
cache holds it for this very file (its path, size and mtime, and this Python's marshal format)
and the entry is the user's own and writable by no one else, and else by calling `parse()` and
keeping the answer. The value must be JSON data (dicts, lists,
str, numbers, booleans, None); it is a fresh object on every call, so callers may change it, as
botocore does when it merges extras into a model. A cache that cannot be read or written costs
only the time: a damaged file is parsed again and replaced, and a directory that cannot be
written is told once in the log. The cache lives in the user cache dir, `wsfleet/parsed-json/`,
readable by the user only; an entry made from an older version of a file is removed when the
new one is written.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from botocore.loaders import JSONFileLoader

log = logging.getLogger(__name__)

_FORMAT = 1  # of the cache's files; a change parses every file again
_lock = threading.Lock()


def cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("wsfleet") / "parsed-json"


def _names(source: str, st: os.stat_result) -> tuple[str, str]:
    """(this source's prefix, its entry's file name): the prefix names the source file, the rest
    what its content is made from, so that an entry from an older file is found and removed."""
    prefix = hashlib.sha256(source.encode()).hexdigest()[:16]
    made_from = f"{_FORMAT} {marshal.version} {sys.version_info[:2]} {st.st_size} {st.st_mtime_ns}"
    digest = hashlib.sha256(made_from.encode()).hexdigest()[:16]
    return prefix, f"{prefix}-{digest}.marshal"


def load(source: str | os.PathLike, parse: Callable[[], Any], directory: Path | None = None) -> Any:
    """`parse()`'s value for the file `source`, from the cache when it has it (see the module)."""
    from wsfleet.files import read_private

    source = os.path.abspath(os.fspath(source))
    try:
        st = os.stat(source)
    except OSError:  # no file to name the entry after: the parser says what is wrong
        return parse()
    directory = directory or cache_dir()
    prefix, name = _names(source, st)
    path = directory / name
    try:
        return marshal.loads(read_private(path))  # not the user's own: parsed again, and replaced
    except FileNotFoundError:
        pass
    except (OSError, EOFError, ValueError, TypeError) as exc:
        log.info("parsed %s ignored (%s): parsing %s again", path, exc, source)
    value = parse()
    try:
        blob = marshal.dumps(value)
    except ValueError:  # not plain JSON data (e.g. OrderedDict): not kept
        log.info("%s not kept: its value is not plain JSON data", source)
        return value
    _keep(path, prefix, blob)
    return marshal.loads(blob)  # the same types the cache gives later runs


def _keep(path: Path, prefix: str, blob: bytes) -> None:
    from wsfleet.files import remove_superseded, write_private

    with _lock:
        try:
            write_private(path, blob)
        except OSError as exc:
            log.info("parsed %s not written: %s", path, exc)
            return
        try:
            remove_superseded(path, lambda name: name.startswith(prefix + "-"))
        except OSError as exc:
            log.info("older entries in %s not removed: %s", path.parent, exc)


class BotocoreFiles(JSONFileLoader):
    """botocore's own `file_loader` (its `.json`, then `.json.gz` lookup, its `exists`), whose JSON
    files come through `load`: `loader.file_loader = BotocoreFiles()`. It parses into plain dicts,
    not the OrderedDicts of botocore's own (whose order a dict keeps too)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None

        def parse() -> Any:
            import json

            with open_method(full_path, "rb") as fp:
                return json.loads(fp.read().decode("utf-8"))

        return load(full_path, parse, self._directory)
