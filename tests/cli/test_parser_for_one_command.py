"""The command line is parsed with only the named subcommand's parser built: same result as the whole."""

from __future__ import annotations

import pytest

from wsfleet.cli import build_parser, command_of


@pytest.mark.parametrize("argv, command", [
    (["counts"], "counts"),
    (["-v", "--config", "check", "check", "--max-skew", "2"], "check"),  # a value that names a command
    (["--conf", "x.toml", "status"], "status"),  # an abbreviated option still takes its value
    (["--endpoint-url=http://127.0.0.1:1", "--read-only", "scale", "out", "2"], "scale"),
    ([], None),
    (["--", "counts"], None),
    (["no-such-command"], None),
])
def test_the_command_is_read_as_argparse_reads_it(argv, command):
    assert command_of(argv) == command


@pytest.mark.parametrize("argv", [
    ["counts", "--format", "json", "--no-cache"],
    ["--fleet", "counts", "--region", "eu-west-1", "check", "--max-skew", "1.5", "--wait", "90"],
    ["--conf", "status", "status", "--format", "json"],
    ["scale", "out", "3", "--yes", "--raise-max"],
    ["refresh", "start", "--min-healthy", "90", "--dry-run"],
])
def test_the_one_command_parser_gives_what_the_whole_parser_gives(argv):
    assert vars(build_parser(command_of(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))
