"""Binding ids the config's `[ui.keymap]` may remap, and the checks on a user keymap.

Every dashboard binding has an id (posting's model); `App.set_keymap` applies the user's keys.
Destructive actions (anything that changes the fleet) must stay on plain keys: a ctrl chord is
too easy to hit by accident in a terminal multiplexer, so a keymap that puts one there is refused.
"""

from __future__ import annotations

from wsfleet.errors import ConfigError

# id -> what it does (the help screen and the error message use these)
DASHBOARD_BINDINGS: dict[str, str] = {
    "quit": "quit",
    "refresh": "refresh now",
    "pause": "pause or resume polling",
    "help": "this help",
    "switch_fleet": "switch fleet",
    "export": "export the snapshot (JSON and CSV)",
    "scale_out": "scale out",
    "scale_in": "scale in",
    "thresholds": "thresholds and steps",
    "schedule": "scheduled actions",
    "warm_pool": "warm pool",
    "start_refresh": "start an instance refresh (deploy)",
    "rebalance": "rebalance: drain the hottest instances",
    "filter": "filter instances",
    "sort": "sort by the next column",
    "sort_reverse": "reverse the sort",
    "chart_view": "alarm chart / per-instance distribution",
    "window_shorter": "shorter chart window",
    "window_longer": "longer chart window",
    "panel_instances": "show the instances (narrow terminals)",
    "panel_chart": "show the alarm chart (narrow terminals)",
    "panel_scaling": "show the scaling panel (narrow terminals)",
    "panel_warm_pool": "show the warm pool (narrow terminals)",
}
MODAL_BINDINGS: dict[str, str] = {
    "modal_cancel": "close the dialog",
    "modal_apply": "apply the previewed change",
    "schedule_add": "add a scheduled action",
    "schedule_edit": "edit the selected scheduled action",
    "schedule_delete": "delete the selected scheduled action",
    "help_close": "close the help",
}
ALL_BINDINGS = {**DASHBOARD_BINDINGS, **MODAL_BINDINGS}
DESTRUCTIVE = {"scale_out", "scale_in", "thresholds", "schedule", "warm_pool", "start_refresh", "rebalance", "modal_apply",
               "schedule_delete"}


def check_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """The keymap if every id is known and no destructive id sits on a ctrl chord; else ConfigError."""
    for binding_id, keys in keymap.items():
        if binding_id not in ALL_BINDINGS:
            known = ", ".join(sorted(ALL_BINDINGS))
            raise ConfigError(f"ui.keymap: {binding_id!r} is not a binding id; use one of: {known}.")
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"ui.keymap.{binding_id}: give the key(s) as a string, e.g. {binding_id} = \"x\" or \"x,y\".")
        if binding_id in DESTRUCTIVE:
            for key in keys.split(","):
                if key.strip().lower().startswith("ctrl+"):
                    raise ConfigError(f"ui.keymap.{binding_id}: {key.strip()!r} is a ctrl chord, and actions that change the fleet stay on plain keys; pick a key without ctrl.")
    return dict(keymap)
