"""wsfleet.parsed_json: big JSON files parsed once, then read back in marshal form."""

from __future__ import annotations

import gzip
import json
import os
from collections import OrderedDict

import pytest

from wsfleet import parsed_json
from wsfleet.parsed_json import BotocoreFiles


def _counting(value):
    calls = []

    def parse():
        calls.append(1)
        return json.loads(json.dumps(value))

    return parse, calls


def test_parsed_once_then_from_the_cache_as_a_fresh_object(tmp_path):
    source = tmp_path / "model.json"
    source.write_text(json.dumps({"shapes": {"A": {"type": "string"}}, "n": [1, 2.5, None, True]}))
    parse, calls = _counting(json.loads(source.read_text()))
    first = parsed_json.load(source, parse, tmp_path / "cache")
    first["shapes"]["A"]["type"] = "changed by a caller"  # botocore merges extras into what it loads
    second = parsed_json.load(source, parse, tmp_path / "cache")
    assert calls == [1]
    assert second == {"shapes": {"A": {"type": "string"}}, "n": [1, 2.5, None, True]}
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600


def test_a_changed_source_is_parsed_again_and_its_old_entry_removed(tmp_path):
    source = tmp_path / "model.json"
    source.write_text('{"v": 1}')
    parsed_json.load(source, lambda: json.loads(source.read_text()), tmp_path / "cache")
    source.write_text('{"v": 22}')
    os.utime(source, ns=(1, 1))  # a different mtime as well as size
    assert parsed_json.load(source, lambda: json.loads(source.read_text()), tmp_path / "cache") == {"v": 22}
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert parsed_json.load(source, lambda: pytest.fail("parsed a third time"), tmp_path / "cache") == {"v": 22}


def _cut_short(entry):
    entry.write_bytes(entry.read_bytes()[:5])


def _writable_by_others(entry):
    entry.chmod(0o666)


@pytest.mark.parametrize("spoil", [_cut_short, _writable_by_others], ids=["damaged", "others can write it"])
def test_an_entry_that_cannot_be_trusted_is_parsed_again_and_replaced(tmp_path, spoil):
    source = tmp_path / "model.json"
    source.write_text('{"v": [1, 2, 3]}')
    parse = lambda: json.loads(source.read_text())  # noqa: E731
    parsed_json.load(source, parse, tmp_path / "cache")
    (entry,) = (tmp_path / "cache").iterdir()
    spoil(entry)
    calls = []
    assert parsed_json.load(source, lambda: calls.append(1) or parse(), tmp_path / "cache") == {"v": [1, 2, 3]}
    assert calls == [1]
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600  # replaced by the user's own
    assert parsed_json.load(source, lambda: pytest.fail("not replaced"), tmp_path / "cache") == {"v": [1, 2, 3]}


def test_an_unwritable_cache_costs_only_the_time(tmp_path):
    source = tmp_path / "model.json"
    source.write_text('{"v": 1}')
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory would be")
    parse, calls = _counting({"v": 1})
    assert parsed_json.load(source, parse, blocked / "cache") == {"v": 1}
    assert parsed_json.load(source, parse, blocked / "cache") == {"v": 1}
    assert calls == [1, 1]


def test_a_missing_source_goes_to_the_parser_and_what_is_not_plain_data_is_not_kept(tmp_path):
    with pytest.raises(FileNotFoundError):
        parsed_json.load(tmp_path / "missing.json", lambda: open(tmp_path / "missing.json").read(), tmp_path / "cache")
    source = tmp_path / "model.json"
    source.write_text("{}")
    ordered = OrderedDict(a=1)
    assert parsed_json.load(source, lambda: ordered, tmp_path / "cache") is ordered
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_botocore_files_load_what_botocore_loads(tmp_path):
    """The same data as botocore's own JSONFileLoader, for a .json and a .json.gz model, and the
    same answer to exists()."""
    from botocore.loaders import JSONFileLoader

    model = {"metadata": {"serviceId": "X"}, "operations": {"B": {}, "A": {}}, "shapes": {"S": {"type": "list"}}}
    (tmp_path / "plain.json").write_text(json.dumps(model))
    with gzip.open(tmp_path / "packed.json.gz", "wt") as f:
        json.dump(model, f)
    ours, botocore_own = BotocoreFiles(tmp_path / "cache"), JSONFileLoader()
    for name in ("plain", "packed", "missing"):
        path = str(tmp_path / name)
        assert ours.exists(path) == botocore_own.exists(path)
        for _ in range(2):  # parsed, then from the cache
            got = ours.load_file(path)
            assert got == botocore_own.load_file(path)
            if got is not None:
                assert list(got["operations"]) == ["B", "A"]  # the file's order, as botocore's OrderedDict
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_the_shared_loader_reads_through_the_cache():
    from wsfleet.aws.session import _shared_loader

    assert isinstance(_shared_loader().file_loader, BotocoreFiles)
