"""moto's data files, in the demo's process: parsed once, and the big ones read only when asked.

Installed by `wsfleet.demo` before moto's backends are imported (`install()`):

- **Parsed once.** moto reads its data files with `load_resource` (JSON, most of them gzipped): the
  EC2 backend reads 92 as it is imported -- instance types, their offerings in every region,
  AMIs. They come through `wsfleet.parsed_json`: parsed the first time, then read back in marshal
  form.
- **Offerings on demand.** Of those, the 91 instance-type offering files (one per region and
  location type: 12.7 MB of JSON) took ~50 ms of the demo's start-up to read and tag, for one
  region that is asked at most. While `moto.ec2.models.instance_types` is imported, each file
  is registered instead of read; once it is, each location type's dict of regions
  (`INSTANCE_TYPE_OFFERINGS[location_type]`) reads a region's file, and tags its offerings with
  the location type as moto's import does, the first time that region is looked up. The dicts
  hold the same regions, and give the same lists, as moto's own (tested); every way to read
  them reads the file first.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
import threading
from typing import Any, Callable

_TYPES_MODULE = "moto.ec2.models.instance_types"
_OFFERINGS = "instance_type_offerings"  # the directory of the offerings' files

_lock = threading.RLock()
_deferred: dict[tuple[str, str], Callable[[], Any]] | None = None  # (location type, region) -> its read, while importing
_deferring_thread: int | None = None  # the thread importing moto.ec2.models.instance_types


def install() -> None:
    """Idempotent; nothing when moto is not installed (the demo then says what to install)."""
    try:
        from moto.utilities import utils
    except ImportError:
        return
    if getattr(utils.load_resource, "wsfleet_kept", False):
        return
    original = utils.load_resource

    def load_resource(*args: Any, **kwargs: Any) -> Any:
        source = _source_of(args, kwargs)
        if source is None:  # a call this module does not know: moto's own reader
            return original(*args, **kwargs)

        def read() -> Any:
            from wsfleet import parsed_json

            return parsed_json.load(source, lambda: original(*args, **kwargs))

        where = source.split(os.sep + _OFFERINGS + os.sep, 1)
        if _deferred is not None and _deferring_thread == threading.get_ident() and len(where) == 2:
            location_type, file_name = where[1].split(os.sep, 1)
            _deferred[(location_type, file_name.split(".")[0])] = read
            return []  # moto tags each offering of it: none yet (the read tags them, below)
        return read()

    load_resource.wsfleet_kept = True  # type: ignore[attr-defined]
    load_resource.wsfleet_original = original  # type: ignore[attr-defined]
    utils.load_resource = load_resource
    if _TYPES_MODULE not in sys.modules:
        sys.meta_path.insert(0, _OfferingsOnDemand())


def _source_of(args: tuple, kwargs: dict) -> str | None:
    """The file moto's `load_resource` reads (the .gz first, as it does): its arguments are
    (package, resource) up to moto 5.2.1 and (resource,), relative to moto's package, since."""
    if kwargs:
        return None
    if len(args) == 2:
        package, resource = args
        base = getattr(sys.modules.get(package), "__file__", None)
    elif len(args) == 1:
        (resource,), base = args, getattr(sys.modules.get("moto"), "__file__", None)
    else:
        return None
    if base is None or not isinstance(resource, str):
        return None
    path = os.path.normpath(os.path.join(os.path.dirname(base), resource))
    compressed = path if path.endswith(".gz") else path + ".gz"
    for candidate in (compressed, path):
        if os.path.isfile(candidate):
            return candidate
    return None


class _OfferingsOnDemand(importlib.abc.MetaPathFinder):
    """Wraps the import of moto.ec2.models.instance_types: files registered while it runs, then its
    offerings' dicts made on-demand ones."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _TYPES_MODULE:
            return None
        sys.meta_path.remove(self)  # once: find the real spec, and never again
        from importlib.util import find_spec

        spec = find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            global _deferred, _deferring_thread
            with _lock:
                _deferred, _deferring_thread = {}, threading.get_ident()
                try:
                    real_exec(module)
                    deferred = _deferred
                finally:
                    _deferred, _deferring_thread = None, None
                offerings = getattr(module, "INSTANCE_TYPE_OFFERINGS", None)
                by_type: dict[str, dict[str, Callable[[], Any]]] = {}
                for (location_type, region), read in deferred.items():
                    by_type.setdefault(location_type, {})[region] = read
                for location_type, reads in by_type.items():
                    regions = offerings.get(location_type) if isinstance(offerings, dict) else None
                    if isinstance(regions, dict) and set(regions) == set(reads):
                        offerings[location_type] = _Regions(location_type, regions, reads)
                    elif isinstance(regions, dict):  # not the module we know: read them all now, as moto would
                        for region, read in reads.items():
                            if region in regions:
                                _tag(location_type, regions, region, read)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _tag(location_type: str, regions: dict, region: str, read: Callable[[], Any]) -> None:
    """The region's offerings read and tagged as moto's import tags them, into its (placeholder) list."""
    data = read()
    for instance in data:
        instance["LocationType"] = location_type
    dict.__getitem__(regions, region)[:] = data


class _Regions(dict):
    """A location type's offerings by region, each region's file read when the region is first
    looked up (any read of a value: [], get, values, items, copies, iteration with values)."""

    def __init__(self, location_type: str, placeholders: dict, reads: dict[str, Callable[[], Any]]) -> None:
        super().__init__(placeholders)
        self._location_type = location_type
        self._reads = dict(reads)

    def _ready(self, region: Any) -> None:
        if region in self._reads:  # until its offerings are in: another thread waits below, not past
            with _lock:
                read = self._reads.get(region)
                if read is not None:
                    _tag(self._location_type, self, region, read)  # a failed read is tried again next time
                    del self._reads[region]

    def _all_ready(self) -> None:
        for region in list(self._reads):
            self._ready(region)

    def __getitem__(self, region: Any) -> Any:
        self._ready(region)
        return super().__getitem__(region)

    def get(self, region: Any, default: Any = None) -> Any:
        self._ready(region)
        return super().get(region, default)

    def values(self):  # type: ignore[override]
        self._all_ready()
        return super().values()

    def items(self):  # type: ignore[override]
        self._all_ready()
        return super().items()

    def __iter__(self):  # not dict's own: a copy (dict(x), {**x}) then reads values through __getitem__
        return iter(list(super().keys()))

    def copy(self) -> dict:
        self._all_ready()
        return dict(super().items())

    def pop(self, region: Any, *default: Any) -> Any:
        self._ready(region)
        return super().pop(region, *default)

    def setdefault(self, region: Any, default: Any = None) -> Any:
        self._ready(region)
        return super().setdefault(region, default)

    def __eq__(self, other: object) -> bool:
        self._all_ready()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._all_ready()
        return super().__repr__()

    def __reduce__(self) -> Any:
        self._all_ready()
        return (dict, (dict(super().items()),))
