"""The dashboard's write actions: each opens its dialog and reads the change back after it (a
mixin of DashboardScreen)."""

from __future__ import annotations

from wsfleet.tui.widgets.instances import InstanceTable


class DashboardActions:
    """Needs DashboardScreen's service, status, clock, scale_step and poll_due."""

    # ------------------------------------------------------------------ actions: writes (modals)

    def _refuse_read_only(self, what: str) -> bool:
        if self.service.read_only:
            self.app.notify(f"Read-only: {what} is disabled because wsfleet was started with --read-only; restart without it to change the fleet.", title="Read-only", severity="warning", timeout=6)
            return True
        return False

    def _need_status(self, what: str) -> bool:
        if self.status is None:
            self.app.notify(f"Wait for the first read of {self.service.fleet.name} before {what}.", severity="warning", timeout=4)
            return True
        return False

    def _after_write(self, message: str | None) -> None:
        if message:
            self.app.notify(message, title="Applied", timeout=6)
            self.poll_due = True  # read the change back at once (runs on resume)

    def action_scale_out(self) -> None:
        self._open_scale("out")

    def action_scale_in(self) -> None:
        self._open_scale("in")

    def _open_scale(self, op: str) -> None:
        if self._refuse_read_only("scaling " + op) or self._need_status("scaling " + op):
            return
        from wsfleet.tui.screens.actions import ScaleScreen

        table = self.query_one(InstanceTable)
        self.app.push_screen(ScaleScreen(self.service, self.status, op, self.scale_step, mean=table.stats.mean), self._after_write)

    def action_thresholds(self) -> None:
        if self._refuse_read_only("changing thresholds") or self._need_status("changing thresholds"):
            return
        from wsfleet.tui.screens.actions import ThresholdsScreen

        self.app.push_screen(ThresholdsScreen(self.service, self.status), self._after_write)

    def action_schedule(self) -> None:
        if self._refuse_read_only("editing scheduled actions") or self._need_status("editing scheduled actions"):
            return
        from wsfleet.tui.screens.schedule import ScheduleScreen

        self.app.push_screen(ScheduleScreen(self.service, self.status, self.clock), self._after_write)

    def action_warm_pool(self) -> None:
        if self._refuse_read_only("changing the warm pool") or self._need_status("changing the warm pool"):
            return
        from wsfleet.tui.screens.actions import WarmPoolScreen

        self.app.push_screen(WarmPoolScreen(self.service, self.status), self._after_write)


    def action_start_refresh(self) -> None:
        if self._refuse_read_only("starting an instance refresh") or self._need_status("starting an instance refresh"):
            return
        from wsfleet.tui.screens.deploy import RefreshScreen

        table = self.query_one(InstanceTable)
        self.app.push_screen(RefreshScreen(self.service, self.status, mean=table.stats.mean), self._after_write)

    def action_rebalance(self) -> None:
        if self._refuse_read_only("rebalancing") or self._need_status("rebalancing"):
            return
        from wsfleet.tui.screens.deploy import RebalanceScreen

        table = self.query_one(InstanceTable)
        counts = {iid: r.connections for iid, r in table.rows_by_id.items() if r.connections is not None}
        self.app.push_screen(RebalanceScreen(self.service, self.status, counts, target_skew=self.service.fleet.counts.max_skew),
                             self._after_write)
