#!/usr/bin/env python3
"""Writes shared/analytics/tests/golden/stumpy_small_constant_gaps.json: stumpy 1.14 `stump` on a small
deterministic series with constant stretches (sensor stuck at 39) and NaN gaps, which the simulated golden traces
lack (they have no constant windows). Run with the bench venv python from the repository root."""
import json
import math

import numpy as np
import stumpy


def series():
    n = 300
    t = np.array([120 + 30 * math.sin(k / 7.0) + 10 * math.sin(k / 2.3) + ((k * 37) % 11) for k in range(n)],
                 dtype=np.float64)
    t[40:70] = 39.0     # stuck sensor: constant windows for m <= 31
    t[150:175] = 39.0
    t[220:260] = 250.0
    t[100:104] = np.nan  # gap
    t[280] = np.nan
    return t


def enc(x):
    x = float(x)
    return "inf" if math.isinf(x) else x


T = series()
out = {"series": [None if math.isnan(v) else float(v) for v in T], "cases": []}
for m in (5, 12, 24):
    mp = stumpy.stump(T, m)
    out["cases"].append({
        "m": m,
        "P": [enc(v) for v in mp[:, 0]],
        "I": [int(v) for v in mp[:, 1]],
        "left_I": [int(v) for v in mp[:, 2]],
        "right_I": [int(v) for v in mp[:, 3]],
    })
out["versions"] = {"stumpy": stumpy.__version__, "numpy": np.__version__}
with open("shared/analytics/tests/golden/stumpy_small_constant_gaps.json", "w") as f:
    json.dump(out, f)
print("ok")
