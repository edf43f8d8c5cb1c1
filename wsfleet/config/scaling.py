"""A fleet's [scale_out] and [scale_in] tables: the alarms, thresholds and step bounds (absolute connection counts)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from wsfleet.config.reader import Reader, _key, _toml_type
from wsfleet.errors import ConfigError
from wsfleet.model import TREAT_MISSING_DATA, ScaleInConfig, ScaleOutConfig, StepRange
from wsfleet.scaling import shift_steps, step_problems

MAX_ALARM_SPAN = 86400  # AWS: period x evaluation periods cannot exceed one day


class ScalingSection(Reader):
    def alarm_common(self, t: dict[str, Any], path: tuple[str, ...], d: Any) -> dict[str, Any]:
        period = self.integer(t, path, "period", d.period, low=1, allowed="10, 30 or a multiple of 60 (seconds)")
        if period not in (10, 30) and period % 60:
            raise self.fail(path + ("period",), f"{period} seconds is not an alarm period CloudWatch accepts", "use 10, 30 or a multiple of 60 (seconds)")
        evaluation_periods = self.integer(t, path, "evaluation_periods", d.evaluation_periods, low=1, allowed="a whole number of periods of at least 1")
        if period * evaluation_periods > MAX_ALARM_SPAN:
            raise self.fail(
                path + ("evaluation_periods",),
                f"{evaluation_periods} periods of {period} s span {period * evaluation_periods} s",
                f"period x evaluation_periods cannot exceed one day ({MAX_ALARM_SPAN} s)",
            )
        datapoints = self.integer(t, path, "datapoints_to_alarm", evaluation_periods, low=1, allowed=f"a whole number from 1 to evaluation_periods ({evaluation_periods})")
        if datapoints > evaluation_periods:
            raise self.fail(
                path + ("datapoints_to_alarm",),
                f"{datapoints} is more than evaluation_periods ({evaluation_periods})",
                f"the alarm needs M of N datapoints: use a whole number from 1 to {evaluation_periods}",
            )
        return dict(
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=self.choice(t, path, "treat_missing_data", TREAT_MISSING_DATA, d.treat_missing_data),
            alarm_name=self.name_template(t, path, "alarm_name", d.alarm_name),
            policy_name=self.name_template(t, path, "policy_name", d.policy_name),
        )

    def scale_out(self, data: Any, path: tuple[str, ...]) -> ScaleOutConfig:
        d = ScaleOutConfig()
        t = self.table(data, path, tuple(f.name for f in fields(ScaleOutConfig)))
        threshold = self.number(t, path, "threshold", d.threshold, positive=True, allowed="a number of connections above 0 (absolute, per instance on average)")
        common = self.alarm_common(t, path, d)
        if "steps" in t:
            steps = self.steps(t["steps"], path + ("steps",))
        else:
            steps = shift_steps(d.threshold, threshold, d.steps)  # rule 2: the seed's widths move with the threshold
        for index, field_name, sentence in step_problems(threshold, steps):
            where = path + ("steps",) if index is None else path + ("steps", f"[{index}]") + ((field_name,) if field_name else ())
            raise ConfigError(f"{self.source}: {_key(where)}: {sentence}.")  # the sentence says what is allowed
        return ScaleOutConfig(
            threshold=threshold,
            warmup=self.integer(t, path, "warmup", d.warmup, low=0, allowed="a whole number of seconds of at least 0"),
            steps=steps,
            **common,
        )

    def steps(self, data: Any, path: tuple[str, ...]) -> tuple[StepRange, ...]:
        shape = "a list of { from = N, to = N, add = N }, the last without `to`"
        if not isinstance(data, list):
            raise self.fail(path, f"is {_toml_type(data)}", f"it must be {shape}")
        steps: list[StepRange] = []
        for i, item in enumerate(data):
            where = path + (f"[{i}]",)
            t = self.table(item, where, ("from", "to", "add"), what="a table { from = N, to = N, add = N }")
            lower = self.number(t, where, "from", allowed="a number of connections (absolute)")
            upper = self.number(t, where, "to", None, allowed="a number of connections (absolute); leave it out on the last step")
            add = self.integer(t, where, "add", low=1, allowed="a whole number of instances of at least 1")
            steps.append(StepRange(lower=lower, upper=upper, add=add))
        return tuple(steps)

    def scale_in(self, data: Any, path: tuple[str, ...]) -> ScaleInConfig:
        d = ScaleInConfig()
        t = self.table(data, path, tuple(f.name for f in fields(ScaleInConfig)))
        threshold = self.number(t, path, "threshold", d.threshold, positive=True, allowed="a number of connections above 0 (absolute, per instance on average)")
        return ScaleInConfig(
            threshold=threshold,
            remove=self.integer(t, path, "remove", d.remove, low=1, allowed="a whole number of instances of at least 1"),
            cooldown=self.integer(t, path, "cooldown", d.cooldown, low=0, allowed="a whole number of seconds of at least 0"),
            **self.alarm_common(t, path, d),
        )
