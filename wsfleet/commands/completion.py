"""`wsfleet completion SHELL`: print the completion script for bash, zsh or fish.

shtab writes a static script from the argparse parser itself, so it always matches the commands and
options, and pressing Tab runs no Python at all: no hook in `wsfleet`'s own start-up, no delay at
the prompt. shtab is imported here only, so no other command pays for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from wsfleet.cli import COMPLETION_SHELLS, build_parser
from wsfleet.errors import UsageError

# Options whose value is a file: the script completes paths there.
FILE_OPTIONS = {"--config", "--csv"}


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)


def script(shell: str) -> str:
    if shell not in COMPLETION_SHELLS:
        raise UsageError(f"no completion for shell {shell!r}; use one of {', '.join(COMPLETION_SHELLS)}.")
    try:
        import shtab
    except ImportError:
        raise UsageError("shell completion needs the shtab package, which is missing: run `python -m pip install shtab` (or reinstall wsfleet).") from None
    parser = build_parser()
    for action in _actions(parser):
        if FILE_OPTIONS.intersection(action.option_strings):
            action.complete = shtab.FILE  # type: ignore[attr-defined]  # shtab reads this attribute
    return shtab.complete(parser, shell=shell)


def run(args: Any, ctx: Any) -> int:
    sys.stdout.write(script(args.shell))
    return 0
