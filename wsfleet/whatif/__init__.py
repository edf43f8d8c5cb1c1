"""What if the thresholds were different? Replay a metric history through a scaling configuration. Pure.

`inputs` (the history, the configuration to replay, `propose`), `replay` (`simulate`, `compare` and
the load model they assume), `results` (the reports), `history_csv` (a history read from a CSV file).
Callers import the names below from `wsfleet.whatif`.
"""

from __future__ import annotations

from wsfleet.whatif.history_csv import load_history_csv, parse_history_csv
from wsfleet.whatif.inputs import MetricHistory, WhatIfConfig, propose
from wsfleet.whatif.replay import DEFAULT_FLAP_PERIODS, compare, simulate
from wsfleet.whatif.results import Flap, ScalingEvent, WhatIfComparison, WhatIfReport

__all__ = [
    # inputs
    "MetricHistory",
    "WhatIfConfig",
    "propose",
    # the replay
    "DEFAULT_FLAP_PERIODS",
    "simulate",
    "compare",
    # results
    "ScalingEvent",
    "Flap",
    "WhatIfReport",
    "WhatIfComparison",
    # CSV history
    "load_history_csv",
    "parse_history_csv",
]
