"""What every command needs: the config (loaded on first use), the chosen fleet, global flags."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

from wsfleet.model import AppConfig, FleetConfig


@dataclass
class Context:
    config_path: str | None = None
    fleet_name: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    verbose: bool = False
    _sessions: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Context":
        return cls(
            config_path=args.config,
            fleet_name=args.fleet,
            profile=args.profile,
            region=args.region,
            endpoint_url=args.endpoint_url,
            read_only=args.read_only,
            verbose=args.verbose,
        )

    @cached_property
    def app_config(self) -> AppConfig:
        from wsfleet.config import load_config

        return load_config(self.config_path)

    def fleet_config(self, name: str | None = None) -> FleetConfig:
        """The chosen fleet with the command line's --profile/--region/--endpoint-url applied."""
        from wsfleet.config import select_fleet

        fleet = select_fleet(self.app_config, name or self.fleet_name)
        overrides = {k: v for k, v in (("profile", self.profile), ("region", self.region), ("endpoint_url", self.endpoint_url)) if v}
        return dataclasses.replace(fleet, **overrides) if overrides else fleet

    @property
    def fleet(self) -> FleetConfig:
        return self.fleet_config()

    def aws(self, fleet: FleetConfig | None = None):
        """One AWS session per fleet, reused by every read and write of this process."""
        from wsfleet.aws.session import AwsSession

        fleet = fleet or self.fleet
        if fleet.name not in self._sessions:
            self._sessions[fleet.name] = AwsSession(fleet)
        return self._sessions[fleet.name]
