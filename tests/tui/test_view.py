"""What the dashboard decides without a terminal: flags, bars, ages, sort keys, the filter, the
chart's alarm-state segments, themes as files, the keymap rules, the export files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.tui.fakes import NOW, prod_fixture
from wsfleet.balance import balance_stats
from wsfleet.errors import ConfigError
from wsfleet.model import Alarm, FleetConfig, InstanceCount, MetricSeries
from wsfleet.tui import view
from wsfleet.tui.export import export_paths, snapshot_csv, snapshot_document
from wsfleet.tui.keymap import check_keymap
from wsfleet.tui.themes import load_theme_file, load_themes, resolve_theme_name


def row(i: str = "i-1", connections: int | None = 100, error: str | None = None, **kw) -> view.InstanceRow:
    return view.InstanceRow(id=i, connections=connections, error=error, counted=True, **kw)


# ------------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("connections", "error", "flag"),
    [
        (None, "timeout", "error"),
        (None, None, "pending"),
        (29000, None, "over"),  # over the 28,000 ceiling wins over "far from the mean"
        (13000, None, "high"),
        (7000, None, "low"),
        (10000, None, "ok"),
        (12500, None, "ok"),  # exactly mean * 1.25 is not "far"
    ],
)
def test_judge_flags_each_kind_of_row(connections, error, flag):
    j = view.judge(row(connections=connections, error=error), mean=10000, capacity=28000, max_skew=1.25)
    assert j.flag == flag
    assert view.FLAG_SYMBOL[flag] != "" and view.FLAG_ROLE[flag] is not None


def test_every_problem_flag_has_a_distinct_symbol():
    symbols = [view.FLAG_SYMBOL[f] for f in ("error", "over", "high", "low", "pending")]
    assert len(set(symbols)) == len(symbols) and " " not in symbols


def test_row_cells_show_error_detail_and_cloudwatch_age():
    cells = view.row_cells(row(connections=None, error="auth", detail="permission denied (publickey)"), view.judge(row(connections=None, error="auth"), 1, 1, 1.25), NOW)
    assert cells["error"] == ("auth: permission denied (publickey)", view.ERROR)
    assert cells["connections"][0] == "—"
    aged = row(connections=5, count_age_s=75)
    assert view.row_cells(aged, view.judge(aged, 5, 10, 1.25), NOW)["error"][0] == "value 1m old"


# ------------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(("fraction", "text"), [(0.0, " " * 10 + "   0%"), (0.5, "█████" + " " * 5 + "  50%"), (1.03, "██████████ 103%"), (0.0625, "▋" + " " * 9 + "   6%")])
def test_bar_is_ten_cells_and_a_percentage(fraction, text):
    assert view.bar(fraction) == text
    assert len(view.bar(fraction)) == view.BAR_WIDTH + 5


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (-3, "0s"), (45, "45s"), (600, "10m"), (3 * 3600 + 300, "3h05"), (4 * 86400 + 7200, "4d02")])
def test_ages_are_compact(seconds, text):
    assert view.fmt_age(seconds) == text


@pytest.mark.parametrize(("delta", "text"), [(None, ""), (0.0, "0%"), (0.049, "+4.9%"), (-0.9, "-90%"), (0.42, "+42%")])
def test_delta_vs_mean(delta, text):
    assert view.fmt_delta(delta) == text


def test_age_seconds_accepts_naive_times_as_utc():
    assert view.age_seconds(datetime(2026, 11, 26, 14, 29), NOW) == 60


# ------------------------------------------------------------------------------- sort and filter


def test_missing_values_sort_last_in_both_directions():
    rows = [row("a", 5), row("b", None, error="timeout"), row("c", 9)]
    j = {r.id: view.judge(r, 7, 100, 1.25) for r in rows}
    up = sorted(rows, key=lambda r: view.sort_value("connections", r, j[r.id]))
    down = sorted(rows, key=lambda r: view.sort_value("connections", r, j[r.id], True), reverse=True)
    assert [r.id for r in up] == ["a", "c", "b"]
    assert [r.id for r in down] == ["c", "a", "b"]


def test_addresses_sort_numerically():
    rows = [row("a", address="10.0.0.10"), row("b", address="10.0.0.9"), row("c", address="127.0.0.1:2201")]
    j = {r.id: view.judge(r, 1, 1, 1.25) for r in rows}
    assert [r.id for r in sorted(rows, key=lambda r: view.sort_value("address", r, j[r.id]))] == ["b", "a", "c"]


def test_flag_sort_puts_problems_first():
    rows = [row("ok", 100), row("err", None, error="refused"), row("over", 30000)]
    j = {r.id: view.judge(r, 100, 28000, 1.25) for r in rows}
    assert [r.id for r in sorted(rows, key=lambda r: view.sort_value("flag", r, j[r.id]))] == ["err", "over", "ok"]


def test_filter_needs_every_word_anywhere_in_the_row():
    r = row("i-0abc", az="us-east-1b", lifecycle="InService", health="Healthy", error="timeout", address="10.0.0.9")
    assert view.matches(r, "")
    assert view.matches(r, "1b TIME")
    assert view.matches(r, "10.0.0.9")
    assert not view.matches(r, "1b refused")


def test_a_count_updates_the_row_but_keeps_group_facts():
    base = view.InstanceRow.from_instance(prod_fixture().instances[0])
    c = InstanceCount(base.id, "", "127.0.0.1:2201", "InService", "Healthy", 42, latency_ms=3.0)
    updated = base.with_count(c)
    assert (updated.connections, updated.address, updated.az, updated.counted) == (42, "127.0.0.1:2201", base.az, True)


# ------------------------------------------------------------------------------- chart data


def test_resample_averages_groups_aligned_on_the_newest():
    assert view.resample([1, 2, 3, 4, 5, 6, 7], 3) == [1, 3, 6]
    assert view.resample([None, None, 3, None], 2) == [None, 3]
    assert view.resample([1, 2], 1) == [1, 2]


def test_alarm_states_use_the_shared_evaluator_with_the_alarms_period():
    fleet = FleetConfig(name="f", asg="a")
    series = MetricSeries(60, tuple(NOW - timedelta(minutes=24 - i) for i in range(25)), tuple([5000.0] * 15 + [21000.0] * 10))
    high = view.alarm_states(series, view.high_alarm_params(fleet, None))
    assert high[18] == "OK" and high[19] == "ALARM"  # the 5th breaching minute in a row
    low = view.alarm_states(series, view.low_alarm_params(fleet, None))  # 300 s periods over a 60 s series
    assert len(low) == 25
    assert low[9] == "OK" and low[10:15] == ["ALARM"] * 5  # three 5-minute averages of 5,000 <= 9,500
    assert low[15] == "OK"


def test_alarm_params_come_from_cloudwatch_when_read():
    fleet = FleetConfig(name="f", asg="a")
    alarm = Alarm(name="x", state="OK", threshold=18000, comparison="GreaterThanThreshold", period=60, evaluation_periods=3, datapoints_to_alarm=2, treat_missing_data="breaching")
    p = view.high_alarm_params(fleet, alarm)
    assert (p.threshold, p.comparison, p.evaluation_periods, p.datapoints_to_alarm, p.treat_missing_data) == (18000, "GreaterThanThreshold", 3, 2, "breaching")


def test_segments_prefer_the_high_alarm_and_runs_stay_connected():
    kinds = view.segment_kinds(["OK", "ALARM", "ALARM", "OK", "INSUFFICIENT_DATA"], ["ALARM", "OK", "ALARM", "OK", "INSUFFICIENT_DATA"])
    assert kinds == ["low", "high", "high", "ok", "nodata"]
    assert view.runs(kinds) == [("low", 0, 0), ("high", 0, 2), ("ok", 2, 3), ("nodata", 3, 4)]


def test_absolute_steps_from_the_live_policy():
    from tests.tui.fakes import FakeFleetService

    svc = FakeFleetService(prod_fixture())
    from wsfleet.scaling import live_steps

    threshold, steps, origin = live_steps(svc.fleet, svc.read_status())
    assert (threshold, origin) == (20000, "AWS")
    assert [view.fmt_step(s) for s in steps] == ["20,000–25,000 → +2", "25,000–30,000 → +2", "30,000–∞ → +3"]


# ------------------------------------------------------------------------------- themes


def test_bundled_themes_load(tmp_path):
    loaded = load_themes()
    assert {"wsfleet-dark", "wsfleet-light", "wsfleet-ansi"} <= set(loaded.themes)
    assert loaded.themes["wsfleet-ansi"].ansi and not loaded.themes["wsfleet-light"].dark
    assert loaded.problems == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('name = "x"\nprimary = "#fff"\nbogus = 1\n', "has a key Theme does not take"),
        ('primary = "#fff"\n', 'has no `name = "..."`'),
        ('name = "x"\n', "has no `primary` colour"),
        ('name = "x"\nprimary = "blurple"\n', "has a colour Textual cannot read"),
        ("name = \n", "is not valid TOML"),
    ],
)
def test_a_bad_theme_file_is_one_sentence_naming_it(tmp_path, text, says):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_theme_file(path)
    assert str(path) in str(info.value) and says in str(info.value)


def test_a_user_theme_replaces_a_bundled_one_of_the_same_name(tmp_path):
    from wsfleet.tui.themes import BUNDLED_DIR

    (tmp_path / "mine.toml").write_text('name = "wsfleet-dark"\nprimary = "#112233"\n')
    loaded = load_themes([BUNDLED_DIR, tmp_path])
    assert loaded.themes["wsfleet-dark"].primary == "#112233"


def test_theme_names_resolve_short_and_full():
    available = {"wsfleet-dark", "wsfleet-light", "night"}
    assert resolve_theme_name(None, available) == "wsfleet-dark"
    assert resolve_theme_name("light", available) == "wsfleet-light"
    assert resolve_theme_name("night", available) == "night"
    assert resolve_theme_name("neon", available) is None


def test_without_the_theme_files_textuals_own_themes_stand_in():
    available = {"textual-dark", "textual-light", "ansi-dark"}
    assert resolve_theme_name(None, available) == "textual-dark"
    assert resolve_theme_name("light", available) == "textual-light"
    assert resolve_theme_name("ansi", available) == "ansi-dark"


# ------------------------------------------------------------------------------- keymap


def test_keymap_accepts_plain_keys_for_writes_and_ctrl_for_views():
    assert check_keymap({"scale_out": "a,plus", "refresh": "ctrl+r", "help": "f1"}) == {"scale_out": "a,plus", "refresh": "ctrl+r", "help": "f1"}


def test_every_binding_of_the_dashboard_and_its_dialogs_has_a_known_id():
    from wsfleet.tui.keymap import ALL_BINDINGS, DESTRUCTIVE
    from wsfleet.tui.screens import actions, dashboard, fleets, help, schedule

    screens = [dashboard.DashboardScreen, actions.ActionScreen, schedule.ScheduleScreen, fleets.FleetScreen, help.HelpScreen]
    for screen in screens:
        for b in screen.BINDINGS:
            assert b.id in ALL_BINDINGS, (screen.__name__, b)
            if b.id in DESTRUCTIVE:
                assert "ctrl+" not in b.key, (screen.__name__, b)


@pytest.mark.parametrize("binding", ["scale_out", "scale_in", "thresholds", "schedule", "warm_pool", "modal_apply", "schedule_delete"])
def test_no_fleet_changing_action_on_a_ctrl_chord(binding):
    with pytest.raises(ConfigError, match="is a ctrl chord"):
        check_keymap({binding: "x,ctrl+x"})


# ------------------------------------------------------------------------------- export


def test_export_document_and_csv(tmp_path):
    fleet = prod_fixture().fleet
    rows = [row("i-a", 100, az="us-east-1a", launch_template_version="6", current=False), row("i-b", None, error="timeout", detail="3 s")]
    stats = balance_stats([100, None])
    judgements = {r.id: view.judge(r, stats.mean, fleet.capacity, 1.25) for r in rows}
    doc = snapshot_document(fleet=fleet, status=None, rows=rows, stats=stats, judgements=judgements, source="ssh", account_id="111122223333", counts_at=NOW, now=NOW)
    assert doc["instances"][1] == {"id": "i-b", "az": "", "address": None, "lifecycle": "", "health": "", "connections": None, "error": "timeout", "latency_ms": None, "flag": "error",
                                 "launch_template_version": None, "current": None}
    assert (doc["instances"][0]["launch_template_version"], doc["instances"][0]["current"]) == ("6", False)
    assert doc["summary"]["measured"] == 1 and doc["taken_at"] == "2026-11-26T14:30:00+00:00"
    json.dumps(doc)
    text = snapshot_csv(rows, judgements).splitlines()
    assert text[0].startswith("id,az,address,lifecycle,health,connections,error")
    assert text[2].startswith("i-b,,,,,,timeout,3 s")
    assert text[0].endswith(",launch_template_version,current") and text[1].endswith(",6,false") and text[2].endswith(",,")


def test_export_never_overwrites(tmp_path):
    a = export_paths(tmp_path, "prod/chat", NOW)
    assert a[0].name == "wsfleet-prod_chat-20261126T143000Z.json"
    a[0].write_text("{}")
    b = export_paths(tmp_path, "prod/chat", NOW)
    assert b[0].name == "wsfleet-prod_chat-20261126T143000Z-2.json"


# ------------------------------------------------------------------------------- sparklines and launch templates


@pytest.mark.parametrize(("values", "line"), [
    ([], ""),
    ([5], "▁"),
    ([300, 290, 280, 270, 260, 250, 240, 230], "█▇▆▅▄▃▂▁"),  # 70 apart: the whole range
    ([0, 10, 20], "▁▅█"),
    ([100, 101, 99, 100], "▂▂▁▂"),  # 2 apart, but the span is at least a tenth of 101: noise stays low
    ([0, 0, 0], "▁▁▁"),
    (list(range(20)), "▁▂▃▄▅▆▇█"),  # only the newest eight: 12..19
])
def test_sparkline_of_an_instances_last_counts(values, line):
    assert view.sparkline(values) == line


def test_a_row_draws_its_history_and_knows_the_change():
    r = row().with_history([300, 250, 200])
    assert (r.spark, r.change) == ("█▅▁", -100)  # 250 is level 3.5 of 7: rounded up
    cells = view.row_cells(r, view.judge(r, 100, 28000, 1.25), NOW)
    assert cells["spark"] == ("     █▅▁", "")


@pytest.mark.parametrize(("version", "current", "cell"), [
    ("7", True, ("v7", "")), ("6", False, ("v6 old", view.WARNING)), ("7", None, ("v7", "")),
    (None, None, ("—", view.MUTED)), ("web-lc-2", False, ("web-lc-2 old", view.WARNING)),
])
def test_the_lt_cell_marks_old_versions(version, current, cell):
    assert view.template_cell(row(launch_template_version=version, current=current)) == cell


def test_rows_take_the_launch_template_from_the_group():
    from wsfleet.model import Instance, LaunchTemplateRef

    ref = LaunchTemplateRef(id="lt-1", name="chat", version="$Latest", resolved_version="7")
    old = view.InstanceRow.from_instance(Instance("i-1", "a", "InService", "Healthy", launch_template_version="6"), template=ref)
    assert (old.launch_template_version, old.current) == ("6", False)
    assert old.with_instance(Instance("i-1", "a", "InService", "Healthy", launch_template_version="7"), ref).current is True
    assert view.InstanceRow.from_instance(Instance("i-1", "a", "InService", "Healthy", launch_template_version="6")).current is None


def test_sorting_by_lt_puts_old_versions_first_and_by_trend_the_biggest_drop_first():
    rows = [row("i-a", launch_template_version="7", current=True), row("i-b", launch_template_version="6", current=False),
            row("i-c"), row("i-d", launch_template_version="10", current=True)]
    j = view.judge(rows[0], 100, 28000, 1.25)
    assert [r.id for r in sorted(rows, key=lambda r: view.sort_value("template", r, j))] == ["i-b", "i-a", "i-d", "i-c"]
    moving = [row("i-a").with_history([10, 50]), row("i-b").with_history([50, 10]), row("i-c")]
    assert [r.id for r in sorted(moving, key=lambda r: view.sort_value("spark", r, j))] == ["i-b", "i-a", "i-c"]


def test_the_filter_finds_old_instances():
    assert view.matches(row(launch_template_version="6", current=False), "old")
    assert not view.matches(row(launch_template_version="7", current=True), "old")
    assert view.matches(row(launch_template_version="7", current=True), "v7")
