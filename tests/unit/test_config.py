"""The config file: the seed's defaults, the search order, fleet choice, and every rejected value.

Every rejection names the file and the dotted key and says what is allowed, in one sentence:
"<file>: <dotted.key>: <problem>; <what is allowed>."
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wsfleet.config import ConfigNotFoundError, config_search_paths, load_config, parse_config, select_fleet
from wsfleet.errors import EXIT_USAGE, ConfigError
from wsfleet.model import DoctorConfig, FleetConfig, ScaleInConfig, ScaleOutConfig, ScheduledActionConfig, SshHost, StepRange, WarmPoolConfig

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "tests" / "configs"
EXAMPLE = REPO / "config" / "wsfleet.example.toml"

FLEET = '[fleets.prod-chat]\nasg = "prod-chat-asg"\n'
P = "fleets.prod-chat"


def fleet(extra: str = "") -> FleetConfig:
    return select_fleet(parse_config(FLEET + extra), None)


def rejected(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.exit_code == EXIT_USAGE
    return str(err.value)


# --------------------------------------------------------------------------- good files


def test_example_config_holds_the_seed_values():
    app = load_config(EXAMPLE)
    f = select_fleet(app, None)
    assert app.path == str(EXAMPLE) and app.default_fleet == "prod-chat"
    assert (f.asg, f.region, f.env, f.app, f.port, f.capacity) == ("prod-chat-asg", "us-east-1", "prod", "chat", 443, 28000)
    assert (f.metric.namespace, f.metric.name, f.metric.statistic) == ("TCP_Connections", "TCPconnections", "Average")
    assert f.scale_out == ScaleOutConfig()  # 20000, 60 s, 5 of 5, missing, warm-up 150, +2/+2/+3
    assert f.scale_in == ScaleInConfig()  # 9500, 300 s, 3 of 3, notBreaching, -1, cooldown 300
    assert f.scale_out.steps == (StepRange(20000, 25000, 2), StepRange(25000, 30000, 2), StepRange(30000, None, 3))
    assert f.warm_pool == WarmPoolConfig(min_size=2, max_prepared_capacity=6, pool_state="Stopped", reuse_on_scale_in=True)
    assert f.schedule[0] == ScheduledActionConfig(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4)
    assert f.high_alarm_name == "prod-chat-high-tcp-connections"
    assert f.ssh.known_hosts == os.path.expanduser("~/.ssh/known_hosts")


def test_example_config_documents_every_key_the_loader_accepts():
    text = EXAMPLE.read_text()
    for key in (
        "default_fleet", "audit_log", "theme", "scale_step", "keymap", "asg", "region", "profile", "endpoint_url", "env", "app",
        "port", "capacity", "namespace", "name", "statistic", "dimension", "unit", "source", "interval", "timeout",
        "concurrency", "max_skew", "user", "key", "address", "jump_host", "known_hosts", "host_keys", "config_file", "hosts",
        "service_port", "threshold", "period", "evaluation_periods", "datapoints_to_alarm", "treat_missing_data", "warmup",
        "steps", "alarm_name", "policy_name", "remove", "cooldown", "min_size", "max_prepared_capacity", "pool_state",
        "reuse_on_scale_in", "recurrence", "time_zone", "desired_capacity", "max_size", "start_time", "end_time",
        "silent_after",
    ):
        assert f"{key} =" in text or f"{key}]" in text, key


def test_example_doctor_table_loads_when_uncommented():
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# [fleets.prod-chat.doctor]") or line.startswith("# silent_after ="):
            lines[i] = line[2:]
    f = select_fleet(parse_config("\n".join(lines)), None)
    assert f.doctor == DoctorConfig(silent_after=300)


def test_doctor_silent_after_defaults_to_the_alb_rule_and_takes_seconds():
    assert fleet().doctor == DoctorConfig(silent_after=None)  # doctor derives it from the ALB idle timeout
    assert fleet(f"[{P}.doctor]\nsilent_after = 20\n").doctor.silent_after == 20
    assert fleet(f"[{P}.doctor]\nsilent_after = 2.5\n").doctor.silent_after == 2.5


def test_a_fleet_with_only_its_group_gets_the_seed_defaults():
    f = select_fleet(load_config(CONFIGS / "minimal.toml"), None)
    assert f == FleetConfig(name="prod-chat", asg="prod-chat-asg")


def test_demo_config_endpoints_keys_and_host_maps():
    f = select_fleet(load_config(CONFIGS / "demo.toml"), "demo")
    assert f.endpoint_url == "http://127.0.0.1:5123"
    assert f.ssh.key == str(CONFIGS / "keys" / "demo_ed25519")  # relative to the config file
    assert f.ssh.known_hosts == os.path.expanduser("~/wsfleet-demo/known_hosts")
    assert f.ssh.host_keys == "accept-new"
    assert f.ssh.hosts == {
        "i-0123456789abcdef0": SshHost("127.0.0.1", 2201),
        "i-0fedcba9876543210": SshHost("127.0.0.1", 2202, service_port=9002),
        "i-0aaaabbbbccccdddd": SshHost("::1", 2203),
    }
    assert f.scale_in.period == 60 and f.scale_in.evaluation_periods == 3


def test_a_host_without_a_port_uses_the_fleets_ssh_port():
    f = fleet('[fleets.prod-chat.ssh]\nport = 2222\n[fleets.prod-chat.ssh.hosts]\n"i-0abc" = "10.0.0.5"\n')
    assert f.ssh.hosts["i-0abc"] == SshHost("10.0.0.5", 2222)


def test_moving_only_the_threshold_moves_the_seed_steps_with_it():
    f = fleet("[fleets.prod-chat.scale_out]\nthreshold = 22000\n")
    assert f.scale_out.steps == (StepRange(22000, 27000, 2), StepRange(27000, 32000, 2), StepRange(32000, None, 3))


def test_datapoints_to_alarm_defaults_to_evaluation_periods():
    f = fleet("[fleets.prod-chat.scale_in]\nevaluation_periods = 4\n")
    assert f.scale_in.datapoints_to_alarm == 4


def test_steps_as_an_array_of_tables():
    f = fleet(
        "[fleets.prod-chat.scale_in]\nthreshold = 50\n"
        "[fleets.prod-chat.scale_out]\nthreshold = 100\n"
        "[[fleets.prod-chat.scale_out.steps]]\nfrom = 100\nto = 150\nadd = 1\n"
        "[[fleets.prod-chat.scale_out.steps]]\nfrom = 150\nadd = 4\n"
    )
    assert f.scale_out.steps == (StepRange(100, 150, 1), StepRange(150, None, 4))


def test_schedule_times_without_an_offset_are_utc():
    f = fleet(f'[[{P}.schedule]]\nname = "launch"\nstart_time = 2026-12-24T07:00:00\nend_time = "2026-12-25T07:00:00+01:00"\ndesired_capacity = 8\n')
    action = f.schedule[0]
    assert action.start_time == datetime(2026, 12, 24, 7, tzinfo=timezone.utc)
    assert action.end_time.utcoffset().total_seconds() == 3600


def test_two_fleets_ui_and_audit_log():
    app = load_config(CONFIGS / "two-fleets.toml")
    assert list(app.fleets) == ["prod-chat", "staging-chat"]
    assert select_fleet(app, None).name == "staging-chat"  # default_fleet
    assert select_fleet(app, "prod-chat").profile == "prod"
    assert select_fleet(app, "staging-chat").scale_out.steps[0] == StepRange(15000, 20000, 2)
    assert app.ui.theme == "wsfleet-light" and app.ui.scale_step == 2 and app.ui.keymap == {"scale_out": "o,ctrl+o"}
    assert app.audit_log == os.path.expanduser("~/wsfleet-audit.jsonl")


# --------------------------------------------------------------------------- choosing a fleet


def test_an_unknown_fleet_name_lists_the_fleets_and_suggests_one():
    app = load_config(CONFIGS / "two-fleets.toml")
    with pytest.raises(ConfigError, match=r'no fleet named "prod-chta"; did you mean "prod-chat"\? the fleets are: prod-chat, staging-chat'):
        select_fleet(app, "prod-chta")


def test_several_fleets_without_a_default_ask_for_one():
    app = parse_config(FLEET + '[fleets.other]\nasg = "other-asg"\n')
    with pytest.raises(ConfigError, match=r"several fleets \(other, prod-chat\) and no default_fleet; pick one with --fleet NAME"):
        select_fleet(app, None)


# --------------------------------------------------------------------------- search order


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A working directory and a user config dir of our own, no $WSFLEET_CONFIG."""
    cwd, xdg = tmp_path / "cwd", tmp_path / "xdg"
    cwd.mkdir()
    (xdg / "wsfleet").mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("WSFLEET_CONFIG", raising=False)

    def write(path: Path, asg: str) -> Path:
        path.write_text(f'[fleets.f]\nasg = "{asg}"\n')
        return path

    return cwd, xdg / "wsfleet" / "config.toml", write


def asg_of(app) -> str:
    return select_fleet(app, None).asg


def test_search_order_explicit_then_env_then_local_then_user(places, tmp_path, monkeypatch):
    cwd, user, write = places
    write(user, "from-user")
    assert asg_of(load_config()) == "from-user"
    write(cwd / "wsfleet.toml", "from-cwd")
    assert asg_of(load_config()) == "from-cwd"
    monkeypatch.setenv("WSFLEET_CONFIG", str(write(tmp_path / "env.toml", "from-env")))
    assert asg_of(load_config()) == "from-env"
    assert asg_of(load_config(write(tmp_path / "given.toml", "from-flag"))) == "from-flag"
    assert config_search_paths() == [tmp_path / "env.toml", cwd / "wsfleet.toml", user]


def test_no_config_anywhere_names_every_place_searched(places):
    cwd, user, _ = places
    with pytest.raises(ConfigNotFoundError) as err:
        load_config()
    assert str(cwd / "wsfleet.toml") in str(err.value) and str(user) in str(err.value)
    assert "--config" in str(err.value) and err.value.searched == [cwd / "wsfleet.toml", user]


def test_a_missing_explicit_config_is_an_error_not_a_fallback(places, tmp_path):
    cwd, _, write = places
    write(cwd / "wsfleet.toml", "from-cwd")
    with pytest.raises(ConfigError, match="config file not found") as err:
        load_config(tmp_path / "nope.toml")
    assert not isinstance(err.value, ConfigNotFoundError)


def test_a_missing_env_config_says_it_came_from_the_environment(places, tmp_path, monkeypatch):
    monkeypatch.setenv("WSFLEET_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"given by \$WSFLEET_CONFIG"):
        load_config()


def test_a_directory_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_the_file_name_starts_every_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(FLEET + "port = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {P}.port: 0 is out of range; a TCP port from 1 to 65535")


# --------------------------------------------------------------------------- rejected values

REJECTIONS = [
    # unknown keys, with the close one suggested
    ("unknown key", f"[{P}.scale_out]\ntreshold = 1\n", f"{P}.scale_out.treshold", 'unknown key (did you mean "threshold"?)'),
    ("unknown fleet key", "regoin = 'us-east-1'\n", f"{P}.regoin", 'did you mean "region"'),
    ("unknown top-level key", "", "colour", "unknown key; the keys allowed here are: fleets, default_fleet, audit_log, ui"),
    ("unknown step key", f"[{P}.scale_out]\nsteps = [{{from = 20000, upto = 25000, add = 2}}, {{from = 25000, add = 3}}]\n", f"{P}.scale_out.steps[0].upto", 'did you mean "to"'),
    # wrong types: a bool is not an int, a string is not a number
    ("port as string", 'port = "443"\n', f"{P}.port", 'is a string ("443"); a TCP port from 1 to 65535'),
    ("port as bool", "port = true\n", f"{P}.port", "is a boolean (true)"),
    ("capacity as float", "capacity = 1.5\n", f"{P}.capacity", "is a float (1.5)"),
    ("threshold as bool", f"[{P}.scale_out]\nthreshold = true\n", f"{P}.scale_out.threshold", "is a boolean"),
    ("interval as string", f"[{P}.counts]\ninterval = '5'\n", f"{P}.counts.interval", "is a string"),
    ("reuse as string", f"[{P}.warm_pool]\nreuse_on_scale_in = 'yes'\n", f"{P}.warm_pool.reuse_on_scale_in", "write true or false"),
    ("asg as number", None, f"{P}.asg", "is an integer (5)"),
    ("metric not a table", "metric = 'TCPconnections'\n", f"{P}.metric", "is a string; it must be a table"),
    ("steps not a list", f"[{P}.scale_out]\nsteps = 3\n", f"{P}.scale_out.steps", "it must be a list"),
    ("keymap value", "", "ui.keymap.scale_out", "is an integer"),
    # counts that must be positive
    ("zero capacity", "capacity = 0\n", f"{P}.capacity", "0 is out of range"),
    ("zero remove", f"[{P}.scale_in]\nremove = 0\n", f"{P}.scale_in.remove", "at least 1"),
    ("zero concurrency", f"[{P}.counts]\nconcurrency = 0\n", f"{P}.counts.concurrency", "at least 1"),
    ("zero interval", f"[{P}.counts]\ninterval = 0\n", f"{P}.counts.interval", "above 0"),
    ("negative timeout", f"[{P}.counts]\ntimeout = -1\n", f"{P}.counts.timeout", "above 0"),
    ("max skew below one", f"[{P}.counts]\nmax_skew = 0.9\n", f"{P}.counts.max_skew", "at least 1.0"),
    ("negative warmup", f"[{P}.scale_out]\nwarmup = -1\n", f"{P}.scale_out.warmup", "at least 0"),
    ("negative cooldown", f"[{P}.scale_in]\ncooldown = -5\n", f"{P}.scale_in.cooldown", "at least 0"),
    ("zero evaluation periods", f"[{P}.scale_in]\nevaluation_periods = 0\n", f"{P}.scale_in.evaluation_periods", "at least 1"),
    ("zero threshold", f"[{P}.scale_in]\nthreshold = 0\n", f"{P}.scale_in.threshold", "above 0"),
    ("negative warm pool", f"[{P}.warm_pool]\nmin_size = -1\n", f"{P}.warm_pool.min_size", "at least 0"),
    ("zero scale step", "", "ui.scale_step", "at least 1"),
    # ports
    ("port 0", "port = 0\n", f"{P}.port", "1 to 65535"),
    ("port 70000", "port = 70000\n", f"{P}.port", "1 to 65535"),
    ("ssh port", f"[{P}.ssh]\nport = 65536\n", f"{P}.ssh.port", "1 to 65535"),
    ("host port", f'[{P}.ssh.hosts]\n"i-0abc" = "127.0.0.1:70000"\n', f'{P}.ssh.hosts.i-0abc', 'has port "70000"; ports are 1 to 65535'),
    ("host port text", f'[{P}.ssh.hosts]\n"i-0abc" = "127.0.0.1:ssh"\n', f'{P}.ssh.hosts.i-0abc', 'has port "ssh"'),
    ("service port", f'[{P}.ssh.hosts]\n"i-0abc" = {{ address = "127.0.0.1:2201", service_port = 0 }}\n', f"{P}.ssh.hosts.i-0abc.service_port", "1 to 65535"),
    ("host address", f'[{P}.ssh.hosts]\n"i-0abc" = "a b:22"\n', f"{P}.ssh.hosts.i-0abc", "is not host:port"),
    ("host entry type", f'[{P}.ssh.hosts]\n"i-0abc" = 2201\n', f"{P}.ssh.hosts.i-0abc", 'write "host:port", or a table'),
    ("host table key", f'[{P}.ssh.hosts]\n"i-0abc" = {{ adress = "127.0.0.1:1" }}\n', f"{P}.ssh.hosts.i-0abc.adress", 'did you mean "address"'),
    ("host id", f'[{P}.ssh.hosts]\n"web-1" = "127.0.0.1:2201"\n', f"{P}.ssh.hosts.web-1", "is not an EC2 instance id"),
    # steps (rule 1)
    ("steps overlap", f"[{P}.scale_out]\nsteps = [{{from = 20000, to = 25000, add = 2}}, {{from = 24000, add = 3}}]\n", f"{P}.scale_out.steps[1].from", "overlapping step 1"),
    ("steps gap", f"[{P}.scale_out]\nsteps = [{{from = 20000, to = 25000, add = 2}}, {{from = 26000, add = 3}}]\n", f"{P}.scale_out.steps[1].from", "leaving a gap"),
    ("steps start", f"[{P}.scale_out]\nsteps = [{{from = 21000, to = 25000, add = 2}}, {{from = 25000, add = 3}}]\n", f"{P}.scale_out.steps[0].from", "not at the alarm threshold 20,000"),
    ("steps end", f"[{P}.scale_out]\nsteps = [{{from = 20000, to = 25000, add = 2}}]\n", f"{P}.scale_out.steps[0].to", "must be open-ended"),
    ("steps empty", f"[{P}.scale_out]\nsteps = []\n", f"{P}.scale_out.steps", "no steps"),
    ("step adds nothing", f"[{P}.scale_out]\nsteps = [{{from = 20000, add = 0}}]\n", f"{P}.scale_out.steps[0].add", "at least 1"),
    ("step without from", f"[{P}.scale_out]\nsteps = [{{add = 2}}]\n", f"{P}.scale_out.steps[0].from", "is missing"),
    ("shifted threshold, old steps", f"[{P}.scale_out]\nthreshold = 22000\nsteps = [{{from = 20000, to = 25000, add = 2}}, {{from = 25000, add = 3}}]\n", f"{P}.scale_out.steps[0].from", "not at the alarm threshold 22,000"),
    # alarms
    ("low above high", f"[{P}.scale_in]\nthreshold = 20000\n", f"{P}.scale_in.threshold", "is not below the scale-out threshold 20000"),
    ("M over N", f"[{P}.scale_out]\nevaluation_periods = 3\ndatapoints_to_alarm = 4\n", f"{P}.scale_out.datapoints_to_alarm", "4 is more than evaluation_periods (3)"),
    ("period 45", f"[{P}.scale_out]\nperiod = 45\n", f"{P}.scale_out.period", "use 10, 30 or a multiple of 60"),
    ("period 90", f"[{P}.scale_in]\nperiod = 90\n", f"{P}.scale_in.period", "not an alarm period"),
    ("period 0", f"[{P}.scale_in]\nperiod = 0\n", f"{P}.scale_in.period", "out of range"),
    ("longer than a day", f"[{P}.scale_in]\nperiod = 3600\nevaluation_periods = 25\n", f"{P}.scale_in.evaluation_periods", "cannot exceed one day"),
    ("treat missing", f"[{P}.scale_out]\ntreat_missing_data = 'Breaching'\n", f"{P}.scale_out.treat_missing_data", '(did you mean "breaching"?); use one of "breaching", "notBreaching", "ignore", "missing"'),
    ("alarm name placeholder", f"[{P}.scale_out]\nalarm_name = '{{environment}}-high'\n", f"{P}.scale_out.alarm_name", "{env}, {app} and {asg}"),
    # choices
    ("source", f"[{P}.counts]\nsource = 'netstat'\n", f"{P}.counts.source", 'use one of "ssh", "ssm", "cloudwatch"'),
    ("address", f"[{P}.ssh]\naddress = 'private'\n", f"{P}.ssh.address", 'did you mean "private_ip"'),
    ("host keys", f"[{P}.ssh]\nhost_keys = 'ignore'\n", f"{P}.ssh.host_keys", 'use one of "strict", "accept-new"'),
    ("pool state", f"[{P}.warm_pool]\npool_state = 'stopped'\n", f"{P}.warm_pool.pool_state", 'did you mean "Stopped"'),
    ("statistic", f"[{P}.metric]\nstatistic = 'p99'\n", f"{P}.metric.statistic", '"Average"'),
    ("unit", f"[{P}.metric]\nunit = 'count'\n", f"{P}.metric.unit", 'did you mean "Count"'),
    ("aws namespace", f"[{P}.metric]\nnamespace = 'AWS/EC2'\n", f"{P}.metric.namespace", "is an AWS namespace"),
    # places
    ("endpoint", "endpoint_url = '127.0.0.1:5000'\n", f"{P}.endpoint_url", "is not an http(s) URL"),
    ("region", "region = 'US East'\n", f"{P}.region", "is not an AWS region name"),
    ("empty string", "env = ''\n", f"{P}.env", "is empty"),
    # schedule
    ("schedule min over max", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\nmin_size = 5\nmax_size = 4\n", f"{P}.schedule[0].min_size", "5 is above max_size 4"),
    ("schedule desired outside", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\nmin_size = 2\nmax_size = 4\ndesired_capacity = 6\n", f"{P}.schedule[0].desired_capacity", "6 is outside min_size..max_size (2..4)"),
    ("schedule desired below min", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\nmin_size = 4\ndesired_capacity = 2\n", f"{P}.schedule[0].desired_capacity", "outside min_size..max_size (4..max)"),
    ("schedule no capacity", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\n", f"{P}.schedule[0]", "sets no capacity"),
    ("schedule no time", f"[[{P}.schedule]]\nname = 'a'\nmin_size = 1\n", f"{P}.schedule[0]", "neither recurrence nor start_time"),
    ("schedule cron", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * *'\nmin_size = 1\n", f"{P}.schedule[0].recurrence", "has 4 fields"),
    ("schedule zone", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\ntime_zone = 'Mars/Olympus'\nmin_size = 1\n", f"{P}.schedule[0].time_zone", "is not an IANA time zone name"),
    ("schedule twice", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\nmin_size = 1\n[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 8 * * *'\nmin_size = 1\n", f"{P}.schedule[1].name", "also the name of schedule[0]"),
    ("schedule as table", f"[{P}.schedule]\nname = 'a'\n", f"{P}.schedule", f"write each scheduled action as [[{P}.schedule]]"),
    ("schedule end before start", f"[[{P}.schedule]]\nname = 'a'\nstart_time = 2026-01-02T00:00:00Z\nend_time = 2026-01-01T00:00:00Z\nmin_size = 1\n", f"{P}.schedule[0].end_time", "is not after start_time"),
    ("schedule bad time", f"[[{P}.schedule]]\nname = 'a'\nstart_time = 'tomorrow'\nmin_size = 1\n", f"{P}.schedule[0].start_time", "is not an ISO 8601 date-time"),
    ("schedule negative size", f"[[{P}.schedule]]\nname = 'a'\nrecurrence = '0 7 * * *'\nmin_size = -1\n", f"{P}.schedule[0].min_size", "at least 0"),
    # doctor
    ("silent after zero", f"[{P}.doctor]\nsilent_after = 0\n", f"{P}.doctor.silent_after", "0 is out of range; a number of seconds above 0"),
    ("silent after negative", f"[{P}.doctor]\nsilent_after = -20\n", f"{P}.doctor.silent_after", "-20 is out of range"),
    ("silent after as string", f"[{P}.doctor]\nsilent_after = '20s'\n", f"{P}.doctor.silent_after", 'is a string ("20s"); a number of seconds above 0'),
    ("silent after typo", f"[{P}.doctor]\nsilent_afer = 20\n", f"{P}.doctor.silent_afer", 'did you mean "silent_after"'),
    ("doctor not a table", "doctor = 20\n", f"{P}.doctor", "it must be a table"),
]


def _document(case_id: str, snippet: str | None) -> str:
    if case_id == "unknown top-level key":
        return "colour = 'red'\n" + FLEET
    if case_id == "asg as number":
        return f"[{P}]\nasg = 5\n"
    if case_id == "keymap value":
        return FLEET + "[ui.keymap]\nscale_out = 5\n"
    if case_id == "zero scale step":
        return "[ui]\nscale_step = 0\n" + FLEET
    return FLEET + snippet


@pytest.mark.parametrize(("case_id", "snippet", "key", "words"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_every_wrong_value_is_named_by_its_key(case_id, snippet, key, words):
    message = rejected(_document(case_id, snippet))
    assert message.startswith(f"<string>: {key}: "), message
    assert "; " in message and message.endswith("."), message
    if words:
        assert words in message, message


def test_a_fleet_needs_its_group():
    assert rejected(f"[{P}]\nregion = 'us-east-1'\n").startswith(f"<string>: {P}.asg: is missing; this key is required")


def test_a_config_without_fleets_says_how_to_add_one():
    assert "add a [fleets.NAME] table" in rejected("[ui]\nscale_step = 1\n")


def test_default_fleet_must_be_one_of_the_fleets():
    message = rejected('default_fleet = "prod-chta"\n' + FLEET)
    assert message.startswith('<string>: default_fleet: "prod-chta" is not a fleet in this file (did you mean "prod-chat"?)')


def test_bad_toml_syntax_gives_the_line():
    message = rejected(FLEET + "port = \n")
    assert message.startswith("<string>: line 3, column 8: invalid TOML: "), message


def test_a_quoted_fleet_name_is_quoted_in_the_key_path():
    message = rejected('[fleets."eu.chat"]\nasg = "a"\nport = 0\n')
    assert message.startswith('<string>: fleets."eu.chat".port: ')


def test_integer_fields_refuse_a_float_even_when_whole():
    assert "is a float (443)" in rejected(FLEET + "port = 443.0\n")


def test_a_rejected_file_changes_nothing(tmp_path):
    path = tmp_path / "wsfleet.toml"
    text = FLEET + "port = 0\n"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path)
    assert path.read_text() == text
