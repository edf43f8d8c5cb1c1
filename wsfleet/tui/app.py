"""The wsfleet dashboard: a Textual app over a FleetDirectory (real services, or a fake in tests)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from textual.app import App, SystemCommand
from textual.screen import Screen

from wsfleet.errors import ConfigError
from wsfleet.model import UiConfig
from wsfleet.tui.keymap import check_keymap
from wsfleet.tui.screens.dashboard import MIN_INTERVAL, DashboardScreen
from wsfleet.tui.themes import DEFAULT_THEME, load_themes, resolve_theme_name
from wsfleet.tui.view import COLUMNS


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Boot(Protocol):
    """A fleet still being made: `wait()` blocks (on a worker thread) until its FleetDirectory is
    ready, or raises with a sentence; `progress()` is what it has said so far."""

    title: str

    def wait(self) -> Any: ...

    def progress(self) -> list[str]: ...

    def cancel(self) -> None: ...

    # optional: `announce() -> list[str]`, shown as a notification once the dashboard opens;
    # `provisioning_at(when) -> bool`, true when a status read at `when` found the fleet serving
    # but not provisioned yet (the panels then say its policies, warm pool and schedule are on
    # their way); `counts_shown()`, called after every sweep the dashboard has painted (the demo
    # provisions after the first)


class WsfleetApp(App):
    CSS_PATH = "wsfleet.tcss"
    TITLE = "wsfleet"

    def __init__(
        self,
        directory: Any,
        *,
        fleet: str | None = None,
        ui: UiConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        poll: bool = True,
        window_minutes: int = 60,
        export_dir: Path | None = None,
        theme_dirs: list[Path] | None = None,
        min_interval: float = MIN_INTERVAL,
        boot: "Boot | None" = None,
    ) -> None:
        super().__init__()
        self.boot = boot
        self.boot_error: str | None = None  # why the fleet never came up (the app then exits, code 3)
        self.boot_cancelled = False
        if directory is None and boot is None:
            raise ValueError("WsfleetApp needs a directory, or a boot that makes one")
        self.directory = directory
        self.ui_config = ui or getattr(getattr(directory, "app_config", None), "ui", None) or UiConfig()
        self.keymap = check_keymap(dict(self.ui_config.keymap))
        if not isinstance(self.ui_config.scale_step, int) or isinstance(self.ui_config.scale_step, bool) or self.ui_config.scale_step < 1:
            raise ConfigError(f"ui.scale_step must be a whole number 1 or more, not {self.ui_config.scale_step!r}.")
        self.loaded_themes = load_themes(theme_dirs)
        for theme in self.loaded_themes.themes.values():
            self.register_theme(theme)
        wanted = resolve_theme_name(self.ui_config.theme, set(self.available_themes))
        if wanted is None:
            names = ", ".join(sorted(self.loaded_themes.themes) or [DEFAULT_THEME])
            raise ConfigError(f"ui.theme {self.ui_config.theme!r} is not a theme; use one of {names} (or a file in the themes directory).")
        self.initial_theme = wanted
        self.requested_fleet = fleet
        self.fleet_name = directory.default_name(fleet) if directory is not None else None
        self.clock = clock
        self.poll = poll
        self.window_minutes = window_minutes
        self.export_dir = export_dir
        self.min_interval = min_interval
        self.dashboard: DashboardScreen | None = None

    def on_mount(self) -> None:
        self.theme = self.initial_theme
        if self.keymap:
            self.set_keymap(self.keymap)
        for problem in self.loaded_themes.problems:
            self.notify(problem, title="Theme skipped", severity="warning", timeout=8)
        if self.directory is None:
            from wsfleet.tui.screens.boot import BootScreen

            self.push_screen(BootScreen(self.boot.title, self.boot.progress))
            self.run_worker(self._await_boot, thread=True, name="boot", group="boot", exit_on_error=False)
            return
        self._open_dashboard()

    def _await_boot(self) -> None:
        """On a thread: wait for the fleet, then open the dashboard on the app's thread."""
        try:
            directory = self.boot.wait()
        except Exception as exc:  # a WsfleetError, or anything the booting side died of: one sentence
            if self.boot_cancelled:
                return  # the user quit while it booted
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            self.call_from_thread(self._boot_failed, message)
            return
        self.call_from_thread(self._booted, directory)

    def _booted(self, directory: Any) -> None:
        try:
            self.fleet_name = directory.default_name(self.requested_fleet)
            self.directory = directory
            self._open_dashboard(replace=True)
            notes = getattr(self.boot, "announce", None)
            if notes:
                self.notify("\n".join(notes()), title="Demo", timeout=15)  # it covers the table's right half at 80x24
        except Exception as exc:  # the fleet came up but cannot be shown (its config): one sentence, not a hang
            self._boot_failed(getattr(exc, "message", None) or str(exc) or type(exc).__name__)

    def _boot_failed(self, message: str) -> None:
        self.boot_error = message
        self.exit(return_code=3)

    def _open_dashboard(self, replace: bool = False) -> None:
        self.dashboard = DashboardScreen(
            self.directory,
            self.fleet_name,
            clock=self.clock,
            poll=self.poll,
            window_minutes=self.window_minutes,
            export_dir=self.export_dir,
            scale_step=self.ui_config.scale_step,
            min_interval=self.min_interval,
        )
        if replace:
            self.switch_screen(self.dashboard)
        else:
            self.push_screen(self.dashboard)

    async def action_quit_app(self) -> None:
        if self.boot is not None and self.directory is None:
            self.boot_cancelled = True
            self.boot.cancel()  # its waiting thread returns; the caller stops what was booting
        if self.dashboard is not None:
            self.workers.cancel_group(self.dashboard, "sweep")  # stop reading a source we close next
        await self._close_services()
        self.exit()

    async def action_quit(self) -> None:
        await self.action_quit_app()

    async def _close_services(self) -> None:
        if self.directory is None:  # quit while booting: nothing was opened
            return
        try:
            await self.directory.aclose()
        except Exception:  # the process is ending; a close error must not keep the terminal broken
            pass

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        d = self.dashboard
        if d is not None and screen is d:
            yield SystemCommand("Scale out", "Add instances now (plan, preview, confirm)", d.action_scale_out)
            yield SystemCommand("Scale in", "Remove instances, with the flap projection", d.action_scale_in)
            yield SystemCommand("Thresholds and steps", "Edit the alarm thresholds and the step bounds together", d.action_thresholds)
            yield SystemCommand("Scheduled actions", "List, add, edit, delete", d.action_schedule)
            yield SystemCommand("Warm pool", "Pool size, state, reuse on scale-in", d.action_warm_pool)
            yield SystemCommand("Refresh now", "Read AWS and sweep the counts", d.action_refresh)
            yield SystemCommand("Pause / resume polling", "Freeze the screen while you read it", d.action_pause)
            yield SystemCommand("Switch fleet", "Another configured fleet (its own account and region)", d.action_switch_fleet)
            yield SystemCommand("Export snapshot", "Write the table and status to JSON and CSV", d.action_export)
            yield SystemCommand("Filter instances", "Show only rows matching words", d.action_filter)
            yield SystemCommand("Chart: alarm / distribution", "Toggle the chart view", d.action_chart_view)
            yield SystemCommand("Help: keys", "The live keymap", d.action_help)
            for col in COLUMNS:
                label = col.label.strip() or "flag (problems first)"
                yield SystemCommand(f"Sort by {label}", f"Sort the instances by {label}", lambda key=col.key: d.sort_by(key))
        for name in sorted(self.available_themes):
            if name.startswith("wsfleet-") or name in self.loaded_themes.themes:
                yield SystemCommand(f"Theme: {name}", "Switch the colour theme", lambda n=name: setattr(self, "theme", n))
        yield from super().get_system_commands(screen)
