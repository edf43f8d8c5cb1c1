"""Entry point: parse the command line, build the context, dispatch, turn errors into exit codes.

Each subcommand lives in `wsfleet/commands/<name>.py` as `run(args, ctx) -> int` and is imported
only when used, so `wsfleet status` never pays for Textual or asyncssh.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading
import traceback

from wsfleet.context import Context
from wsfleet.errors import EXIT_REMOTE, EXIT_USAGE, WsfleetError

FORMATS_TABLE_JSON = ("table", "json")
COMPLETION_SHELLS = ("bash", "zsh", "fish")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one sentence and exit code 2, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"wsfleet: {message} (see `{self.prog} --help`).\n")


class _VersionAction(argparse.Action):
    """`--version`: the installed metadata's version, looked up only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from wsfleet import installed_version

        print(f"wsfleet {installed_version()}")
        parser.exit(0)


class _Skipped:
    """A subcommand's parser that is not built (`build_parser(only=...)`): every call is a no-op."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


class _OnlyOne:
    """The subparsers action, building only the one subcommand that will be parsed."""

    def __init__(self, action, only: str) -> None:
        self._action, self._only = action, only

    def add_parser(self, name: str, **kwargs):
        return self._action.add_parser(name, **kwargs) if name == self._only else _Skipped()


_VALUED_GLOBALS = ("--config", "--fleet", "--profile", "--region", "--endpoint-url")


def command_of(argv: list[str]) -> str | None:
    """The subcommand argv names, read as argparse will (a global option's value, or an abbreviation
    of one, is not it); None when there is none or it is not certain."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return None
        if word.startswith("--") and "=" not in word and any(o.startswith(word) for o in _VALUED_GLOBALS):
            next(words, None)
        elif not word.startswith("-"):
            return word if word in _MODULES else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, that subcommand's parser alone (its arguments cost
    argparse ~20 ms for all thirty, on every one-shot command)."""
    p = _Parser(prog="wsfleet", description="Live connection counts and safe scaling for a WebSocket fleet in an AWS Auto Scaling group.")
    p.add_argument("--config", metavar="PATH", help="config file (default: $WSFLEET_CONFIG, ./wsfleet.toml, then the user config dir)")
    p.add_argument("--fleet", metavar="NAME", help="which [fleets.NAME] to use")
    p.add_argument("--profile", metavar="NAME", help="AWS profile (overrides the config)")
    p.add_argument("--region", metavar="NAME", help="AWS region (overrides the config)")
    p.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint (moto, LocalStack)")
    p.add_argument("--read-only", action="store_true", help="refuse every write to AWS")
    p.add_argument("-v", "--verbose", action="store_true", help="more detail, and tracebacks on errors")
    p.add_argument("-V", "--version", action=_VersionAction, help="print the installed version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if only is not None:
        sub = _OnlyOne(sub, only)

    sub.add_parser("ui", help="the dashboard (the default)")

    d = sub.add_parser("demo", help="an embedded demo fleet on loopback, with the dashboard")
    d.add_argument("--instances", type=int, default=None, metavar="N", help="instances at start")
    d.add_argument("--scenario", default="spike", help="spike | deploy | flap | leak")
    d.add_argument("--seconds", type=float, default=None, metavar="S", help="stop after S seconds")
    d.add_argument("--no-ui", action="store_true", help="headless: one JSON line per engine period")
    d.add_argument("--host-wide", action="store_true", help="publish netstat's host-wide count (as the agent's tcp_established would), not the exact one")

    s = sub.add_parser("status", help="one read of the group, alarms, policies, warm pool, schedule")
    s.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")

    c = sub.add_parser("counts", help="one sweep of per-instance connection counts")
    c.add_argument("--source", choices=("ssh", "ssm", "cloudwatch"), default=None)
    c.add_argument("--format", choices=("table", "json", "csv"), default="table")
    c.add_argument("--no-cache", action="store_true", help="ssh: do not connect ahead to the addresses the last run saw")

    k = sub.add_parser("check", help="imbalance verdict for pipelines (exit 1 when imbalanced)")
    k.add_argument("--max-skew", type=float, default=None, metavar="X", help="largest acceptable max/mean (default 1.25)")
    k.add_argument("--source", choices=("ssh", "ssm", "cloudwatch"), default=None)
    k.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")
    k.add_argument("--no-cache", action="store_true", help="ssh: do not connect ahead to the addresses the last run saw")
    k.add_argument("--wait", metavar="DURATION", default=None,
                   help="sweep until balanced (0), DURATION passes (1) or the sweeps fail (3): 90, 90s, 15m, 1h30m")
    k.add_argument("--interval", metavar="S", default=None, help="with --wait: seconds between sweeps (default: counts.interval)")
    k.add_argument("--no-refresh-wait", action="store_true", help="with --wait: judge even while an instance refresh runs")

    pr = sub.add_parser("provision", help="create/update alarms, policies, warm pool, schedule from the config")
    pr.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    pr.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    sc = sub.add_parser("scale", help="manual capacity change")
    scs = sc.add_subparsers(dest="scale_command", metavar="out|in|to", required=True, parser_class=_Parser)
    for name, helptext in (("out", "add N instances (default 1)"), ("in", "remove N instances (default 1)")):
        x = scs.add_parser(name, help=helptext)
        x.add_argument("n", nargs="?", type=int, default=1, metavar="N")
        x.add_argument("--yes", action="store_true")
        x.add_argument("--raise-max", action="store_true", help="raise MaxSize when the change needs it")
    x = scs.add_parser("to", help="set desired capacity to N")
    x.add_argument("n", type=int, metavar="N")
    x.add_argument("--yes", action="store_true")
    x.add_argument("--raise-max", action="store_true", help="raise MaxSize when the change needs it")

    th = sub.add_parser("thresholds", help="alarm thresholds and steps")
    ths = th.add_subparsers(dest="thresholds_command", metavar="set|simulate", required=True, parser_class=_Parser)
    ts = ths.add_parser("set", help="move the thresholds and the step bounds together")
    ts.add_argument("--high", metavar="X", help="scale-out threshold (absolute connections)")
    ts.add_argument("--low", metavar="Y", help="scale-in threshold (absolute connections)")
    ts.add_argument("--steps", metavar="SPEC", help='absolute steps, e.g. "22000:25000:+2,25000:30000:+2,30000::+3"')
    ts.add_argument("--yes", action="store_true")
    tsim = ths.add_parser("simulate", help="replay metric history through proposed thresholds")
    tsim.add_argument("--high", metavar="X")
    tsim.add_argument("--low", metavar="Y")
    tsim.add_argument("--steps", metavar="SPEC")
    tsim.add_argument("--hours", type=float, default=24.0, help="history window from CloudWatch")
    tsim.add_argument("--csv", metavar="PATH", help="history from a CSV (timestamp,value[,instances])")
    tsim.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")

    sch = sub.add_parser("schedule", help="scheduled actions")
    schs = sch.add_subparsers(dest="schedule_command", metavar="list|put|delete", required=True, parser_class=_Parser)
    sl = schs.add_parser("list", help="the scheduled actions")
    sl.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")
    sp = schs.add_parser("put", help="create or replace one")
    sp.add_argument("name")
    sp.add_argument("--cron", required=True, metavar="EXPR", help='5-field cron, e.g. "0 7 * * MON-FRI"')
    sp.add_argument("--time-zone", metavar="TZ", help="IANA time zone, e.g. Europe/Berlin (default UTC)")
    sp.add_argument("--min", dest="min_size", metavar="N")
    sp.add_argument("--max", dest="max_size", metavar="N")
    sp.add_argument("--desired", metavar="N")
    sp.add_argument("--start", metavar="ISO")
    sp.add_argument("--end", metavar="ISO")
    sp.add_argument("--yes", action="store_true")
    sd = schs.add_parser("delete", help="delete one")
    sd.add_argument("name")
    sd.add_argument("--yes", action="store_true")

    wp = sub.add_parser("warm-pool", help="warm pool")
    wps = wp.add_subparsers(dest="warm_pool_command", metavar="set", required=True, parser_class=_Parser)
    ws = wps.add_parser("set", help="size, state and reuse of the warm pool")
    ws.add_argument("--min-size", metavar="N")
    ws.add_argument("--max-prepared", metavar="N", help="max prepared capacity, or 'none' for the group's max")
    ws.add_argument("--state", choices=("Stopped", "Running", "Hibernated"))
    ws.add_argument("--reuse-on-scale-in", dest="reuse", action="store_true", default=None)
    ws.add_argument("--no-reuse-on-scale-in", dest="reuse", action="store_false")
    ws.add_argument("--yes", action="store_true")

    a = sub.add_parser("audit", help="recent writes from the audit log")
    a.add_argument("-n", type=int, default=20, metavar="N", help="how many (default 20)")
    a.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")

    ag = sub.add_parser("agent-config", help="the CloudWatch agent JSON for the configured metric (exact, over StatsD)")
    ag.add_argument("--sender", action="store_true", help="the instance-side sender of the exact count (POSIX sh), instead")
    ag.add_argument("--host-wide", action="store_true", help="netstat's host-wide tcp_established instead (the seed's; every socket on the host)")

    ip = sub.add_parser("iam-policy", help="the least-privilege IAM policy for the configured fleet(s), or the instances' role")
    ip.add_argument("--fleet", dest="fleets", action="append", metavar="NAME", help="this fleet (repeatable; default: all configured)")
    ip.add_argument("--instance-role", action="store_true", help="the instances' role: what the CloudWatch agent needs")
    ip.add_argument("--account", metavar="ID", help="the AWS account id in the ARNs (default: *)")

    dr = sub.add_parser("doctor", help="audit the fleet's scaling setup")
    dr.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")
    dr.add_argument("--no-instances", action="store_true", help="skip the checks that log in to instances")

    rf = sub.add_parser("refresh", help="instance refreshes (deploys): status, start, cancel, rollback")
    rfs = rf.add_subparsers(dest="refresh_command", metavar="status|start|cancel|rollback", required=True, parser_class=_Parser)
    rst = rfs.add_parser("status", help="the running or latest instance refresh")
    rst.add_argument("--format", choices=FORMATS_TABLE_JSON, default="table")
    rss = rfs.add_parser("start", help="start an instance refresh, previewed with its capacity dip")
    rss.add_argument("--min-healthy", metavar="P", help="minimum healthy percentage, 0-100 (AWS default 90)")
    rss.add_argument("--max-healthy", metavar="P", help="maximum healthy percentage, 100-200 (needs --min-healthy)")
    rss.add_argument("--warmup", metavar="S", help="seconds a new instance warms up before the next batch")
    rss.add_argument("--checkpoints", metavar="LIST", help="pause at these percentages, e.g. 20,50,100")
    rss.add_argument("--checkpoint-delay", metavar="S", help="seconds to wait at each checkpoint (AWS default 3600)")
    rss.add_argument("--skip-matching", action="store_true", help="skip instances already on the desired configuration")
    rss.add_argument("--auto-rollback", action="store_true", help="roll back automatically if the refresh fails")
    rss.add_argument("--suspend-scaling", action="store_true", help="pause the scaling alarms (AlarmNotification) until it ends")
    rss.add_argument("--force", action="store_true", help="start even when the projected dip fires scale-out or passes the ceiling")
    rss.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    rss.add_argument("--yes", action="store_true")
    for name, helptext in (("cancel", "cancel the running refresh"), ("rollback", "roll the running refresh back")):
        x = rfs.add_parser(name, help=helptext)
        x.add_argument("--yes", action="store_true")

    rb = sub.add_parser("rebalance", help="drain the hottest instances one at a time (Standby), projected by the routing algorithm")
    rb.add_argument("--target-skew", metavar="X", help="stop at or under this max/mean (default: counts.max_skew, 1.25)")
    rb.add_argument("--max-drains", metavar="N", help="drain at most N instances (default 3)")
    rb.add_argument("--switch-algorithm", action="store_true", help="first set the target groups to least outstanding requests (previewed)")
    rb.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    rb.add_argument("--yes", action="store_true")

    co = sub.add_parser("completion", help="print the shell completion script for bash, zsh or fish",
                        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
                            "install it once, e.g.:\n"
                            "  wsfleet completion bash > ~/.local/share/bash-completion/completions/wsfleet\n"
                            "  wsfleet completion zsh > ~/.zfunc/_wsfleet    # with fpath+=(~/.zfunc) before compinit\n"
                            "  wsfleet completion fish > ~/.config/fish/completions/wsfleet.fish"))
    co.add_argument("shell", choices=COMPLETION_SHELLS, metavar="SHELL", help="bash | zsh | fish")
    return p


_MODULES = {
    None: "ui",
    "ui": "ui",
    "demo": "demo",
    "status": "status",
    "counts": "counts",
    "check": "counts",
    "provision": "provision",
    "scale": "scale",
    "thresholds": "thresholds",
    "schedule": "schedule",
    "warm-pool": "warm_pool",
    "audit": "audit",
    "agent-config": "agent_config",
    "iam-policy": "iam_policy",
    "doctor": "doctor",
    "refresh": "refresh",
    "rebalance": "rebalance",
    "completion": "completion",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    only = command_of(argv)
    args = build_parser(only).parse_args(argv) if only else None
    if args is None or args.command != only:
        args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if not args.verbose:
        for noisy in ("botocore", "boto3", "urllib3", "asyncssh", "werkzeug", "websockets"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    ctx = Context.from_args(args)
    try:
        module = importlib.import_module(f"wsfleet.commands.{_MODULES[args.command]}")
        return int(module.run(args, ctx) or 0)
    except WsfleetError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"wsfleet: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("wsfleet: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one sentence, the traceback only with -v
        if args.verbose:
            traceback.print_exc()
        print(f"wsfleet: unexpected error: {type(exc).__name__}: {exc} (rerun with -v for the traceback).", file=sys.stderr)
        return EXIT_REMOTE


# The one-shot reads: their whole run is what a user (or a script polling a deploy) waits for.
_FAST_EXIT = frozenset({"counts", "check"})


def entry() -> None:
    """The console script (and `python -m wsfleet`): `main()`, then the process's exit.

    After `counts` or `check` the interpreter's own teardown -- freeing every module asyncssh and
    cryptography loaded, object by object -- took 40 ms of a 0.47 s run here (strace: the output
    written, then 40 ms to exit_group). Those two leave by `os._exit` once the atexit handlers
    have run (logging's flush among them) and stdout/stderr are flushed, when no thread but
    daemons is left (a thread still working would be cut short: then the normal exit).
    Every other command, and `main()` called in-process (the tests), exits the usual way.

    The start-up runs without the cyclic garbage collector (`wsfleet.startup`)."""
    from wsfleet import startup

    startup.begin()
    argv = sys.argv[1:]
    code = main(argv)
    if command_of(argv) in _FAST_EXIT and all(t.daemon or t is threading.main_thread() for t in threading.enumerate()):
        import atexit
        import os

        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)  # output lost (a full disk, a closed pipe): the usual exit says so, with 120
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
