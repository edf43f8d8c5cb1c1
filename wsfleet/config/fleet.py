"""The document's top level and each [fleets.NAME] table: app, ui, fleet and metric."""

from __future__ import annotations

import difflib
import re
from dataclasses import fields
from typing import Any

from wsfleet.config.reader import Reader, _show, _toml_type
from wsfleet.model import AppConfig, FleetConfig, MetricSpec, UiConfig

STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)  # CloudWatch's StandardUnit values


class FleetSection(Reader):
    """A fleet's other tables (counts, ssh, scale_out, ...) are read by the sections `_Parser` composes with this one."""

    # ------------------------------------------------------------------ the document

    def app(self, data: dict[str, Any]) -> AppConfig:
        root = self.table(data, (), ("fleets", "default_fleet", "audit_log", "ui"))
        fleets_data = root.get("fleets")
        if fleets_data is None:
            raise self.fail(("fleets",), "no fleet is defined", 'add a [fleets.NAME] table with at least asg = "your-asg-name"')
        if not isinstance(fleets_data, dict):
            raise self.fail(("fleets",), f"is {_toml_type(fleets_data)}", "it must be tables: [fleets.NAME]")
        if not fleets_data:
            raise self.fail(("fleets",), "no fleet is defined", 'add a [fleets.NAME] table with at least asg = "your-asg-name"')
        fleets = {name: self.fleet(name, body) for name, body in fleets_data.items()}
        default = self.string(root, (), "default_fleet", None)
        if default is not None and default not in fleets:
            close = difflib.get_close_matches(default, list(fleets), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise self.fail(("default_fleet",), f'"{default}" is not a fleet in this file{hint}', f"name one of: {', '.join(sorted(fleets))}")
        return AppConfig(
            fleets=fleets,
            default_fleet=default,
            audit_log=self.file_path(root, (), "audit_log", None),
            ui=self.ui(root.get("ui", {})),
            path=None if self.source.startswith("<") else self.source,
        )

    def ui(self, data: Any) -> UiConfig:
        path = ("ui",)
        t = self.table(data, path, ("theme", "scale_step", "keymap"))
        keymap_data = t.get("keymap", {})
        if not isinstance(keymap_data, dict):
            raise self.fail(path + ("keymap",), f"is {_toml_type(keymap_data)}", 'it must be a table of binding id = "keys", e.g. scale_out = "o"')
        keymap: dict[str, str] = {}
        for binding, keys in keymap_data.items():
            if not re.match(r"^[A-Za-z0-9_.-]+$", binding):
                raise self.fail(path + ("keymap", binding), "is not a binding id", "binding ids are letters, digits, _ . and -, e.g. scale_out")
            keymap[binding] = self.string(keymap_data, path + ("keymap",), binding, allowed='write the keys in quotes, e.g. "ctrl+o" or "o,ctrl+o"')
        defaults = UiConfig()
        return UiConfig(
            theme=self.string(t, path, "theme", defaults.theme),
            keymap=keymap,
            scale_step=self.integer(t, path, "scale_step", defaults.scale_step, low=1),
        )

    def fleet(self, name: str, data: Any) -> FleetConfig:
        path = ("fleets", name)
        allowed = tuple(f.name for f in fields(FleetConfig) if f.name != "name")
        t = self.table(data, path, allowed, what=f"a table: [fleets.{name}]")
        d = FleetConfig(name=name, asg="-")
        asg = self.string(t, path, "asg", allowed='write the Auto Scaling group name in quotes, e.g. asg = "prod-chat-asg"')
        if len(asg) > 255:
            raise self.fail(path + ("asg",), "is longer than 255 characters", "Auto Scaling group names are 1 to 255 characters")
        region = self.string(t, path, "region", None, allowed='write an AWS region name in quotes, e.g. "us-east-1"')
        if region is not None and not re.match(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$", region):
            raise self.fail(path + ("region",), f'"{region}" is not an AWS region name', 'write one like "us-east-1" or "eu-central-1"')
        endpoint = self.string(t, path, "endpoint_url", None, allowed='write a URL in quotes, e.g. "http://127.0.0.1:5000"')
        if endpoint is not None:
            self.check_url(path + ("endpoint_url",), endpoint)
        scale_out = self.scale_out(t.get("scale_out", {}), path + ("scale_out",))
        scale_in = self.scale_in(t.get("scale_in", {}), path + ("scale_in",))
        if scale_in.threshold >= scale_out.threshold:
            where = path + ("scale_in", "threshold")
            raise self.fail(
                where,
                f"{_show(scale_in.threshold)} is not below the scale-out threshold {_show(scale_out.threshold)}",
                "the low (scale-in) threshold must be lower than the high (scale-out) one, or the group scales in and out at once",
            )
        return FleetConfig(
            name=name,
            asg=asg,
            region=region,
            profile=self.string(t, path, "profile", None),
            endpoint_url=endpoint,
            env=self.string(t, path, "env", d.env),
            app=self.string(t, path, "app", d.app),
            port=self.integer(t, path, "port", d.port, low=1, high=65535, allowed="a TCP port from 1 to 65535"),
            capacity=self.integer(t, path, "capacity", d.capacity, low=1, allowed="a whole number of connections of at least 1 (the per-instance ceiling)"),
            metric=self.metric(t.get("metric", {}), path + ("metric",)),
            counts=self.counts(t.get("counts", {}), path + ("counts",)),
            ssh=self.ssh(t.get("ssh", {}), path + ("ssh",)),
            scale_out=scale_out,
            scale_in=scale_in,
            warm_pool=None if "warm_pool" not in t else self.warm_pool(t["warm_pool"], path + ("warm_pool",)),
            schedule=self.schedule(t.get("schedule", []), path + ("schedule",)),
            doctor=self.doctor(t.get("doctor", {}), path + ("doctor",)),
        )

    def metric(self, data: Any, path: tuple[str, ...]) -> MetricSpec:
        d = MetricSpec()
        t = self.table(data, path, tuple(f.name for f in fields(MetricSpec)))
        namespace = self.string(t, path, "namespace", d.namespace)
        if namespace.startswith("AWS/"):
            raise self.fail(path + ("namespace",), f'"{namespace}" is an AWS namespace', 'custom metrics need their own namespace, e.g. "TCP_Connections"')
        if len(namespace) > 255:
            raise self.fail(path + ("namespace",), "is longer than 255 characters", "CloudWatch namespaces are 1 to 255 characters")
        dimension = self.string(t, path, "dimension", d.dimension)
        if dimension != d.dimension:
            # One dimension truth: the alarms query what the agent publishes, and the agent names
            # the group only through append_dimensions' fixed ${aws:AutoScalingGroupName} key.
            raise self.fail(path + ("dimension",), f'"{dimension}" is not a dimension the CloudWatch agent can publish the group under',
                            f'the agent (wsfleet agent-config) publishes it only as "{d.dimension}" (${{aws:AutoScalingGroupName}}), so '
                            f'alarms on "{dimension}" would never get a datapoint: remove the key, or set it to "{d.dimension}"')
        return MetricSpec(
            namespace=namespace,
            name=self.string(t, path, "name", d.name),
            statistic=self.choice(t, path, "statistic", STATISTICS, d.statistic),
            dimension=dimension,
            unit=self.choice(t, path, "unit", UNITS, d.unit, allowed='use a CloudWatch unit such as "Count", "Count/Second" or "None" (StandardUnit)'),
        )
