"""Makes shared/analytics/tests/golden/iglu_metrics_edge.json: iglu-python 0.4 outputs on small synthetic
traces (and their AGP percentiles, numpy nanquantile per grid column) that stress what the 90-day simulator trace does not (jittered and duplicate timestamps, a start
off the 5-minute grid, 15-minute sampling, long gaps, a very short trace). Seeded; run with TZ=UTC:

  TZ=UTC .venv-bench/bin/python bench/reference/metrics_edge_golden.py OUT.json
"""
import json
import math
import os
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import iglu_python as iglu  # noqa: E402


def trace_jitter(rng):
    t0 = pd.Timestamp("2025-02-03T07:03:17Z")
    n = 12 * 288
    t = t0 + pd.to_timedelta(np.arange(n) * 300, unit="s")
    jitter = np.where(rng.random(n) < 0.15, rng.integers(-60, 61, n), 0)
    t = t + pd.to_timedelta(jitter, unit="s")
    g = 130 + 60 * np.sin(np.arange(n) / 40.0) + np.cumsum(rng.normal(0, 3, n))
    g = np.clip(np.round(g, 1), 39, 400)
    keep = np.ones(n, bool)
    for _ in range(10):  # gaps of 10 min .. 5 h
        s = rng.integers(0, n - 60)
        keep[s : s + rng.integers(2, 60)] = False
    t, g = t[keep], g[keep]
    # a few duplicate timestamps with a different value, kept next to the original
    dup = np.sort(rng.choice(len(t), 8, replace=False))
    t = np.insert(np.asarray(t), dup + 1, np.asarray(t)[dup])
    g = np.insert(g, dup + 1, np.clip(g[dup] + 5, 39, 400))
    return pd.DatetimeIndex(t), g


def trace_libre(rng):
    t0 = pd.Timestamp("2025-05-10T22:50:00Z")
    n = 8 * 96
    t = t0 + pd.to_timedelta(np.arange(n) * 900, unit="s")
    g = 150 + 90 * np.sin(np.arange(n) / 9.0) + rng.normal(0, 8, n)
    g = np.clip(np.round(g, 0), 40, 400)
    keep = np.ones(n, bool)
    keep[200:205] = False  # 90 min gap
    keep[400:402] = False  # 45 min gap (not > inter_gap)
    return t[keep], g[keep]


def trace_short(rng):
    t0 = pd.Timestamp("2025-07-01T12:00:00Z")
    n = 20
    t = t0 + pd.to_timedelta(np.arange(n) * 300, unit="s")
    g = np.round(100 + 40 * np.sin(np.arange(n) / 2.0), 1)
    return t, g


CALLS = {
    "mean_glu": lambda d: iglu.mean_glu(d),
    "median_glu": lambda d: iglu.median_glu(d),
    "sd_glu": lambda d: iglu.sd_glu(d),
    "cv_glu": lambda d: iglu.cv_glu(d),
    "range_glu": lambda d: iglu.range_glu(d),
    "iqr_glu": lambda d: iglu.iqr_glu(d),
    "quantile_glu": lambda d: iglu.quantile_glu(d),
    "mad_glu": lambda d: iglu.mad_glu(d),
    "gmi": lambda d: iglu.gmi(d),
    "ea1c": lambda d: iglu.ea1c(d),
    "in_range_percent": lambda d: iglu.in_range_percent(d, target_ranges=[[70, 180], [70, 140], [54, 250], [63, 140]]),
    "below_percent": lambda d: iglu.below_percent(d, targets_below=[54, 70]),
    "above_percent": lambda d: iglu.above_percent(d, targets_above=[140, 180, 250]),
    "active_percent": lambda d: iglu.active_percent(d),
    "mage": lambda d: iglu.mage(d),
    "mage_naive": lambda d: iglu.mage(d, version="naive"),
    "modd": lambda d: iglu.modd(d),
    "conga_24": lambda d: iglu.conga(d),
    "conga_1": lambda d: iglu.conga(d, n=1),
    "lbgi": lambda d: iglu.lbgi(d),
    "hbgi": lambda d: iglu.hbgi(d),
    "adrr": lambda d: iglu.adrr(d),
    "j_index": lambda d: iglu.j_index(d),
    "grade": lambda d: iglu.grade(d),
    "grade_eugly": lambda d: iglu.grade_eugly(d),
    "grade_hyper": lambda d: iglu.grade_hyper(d),
    "grade_hypo": lambda d: iglu.grade_hypo(d),
    "gri": lambda d: iglu.gri(d),
    "gvp": lambda d: iglu.gvp(d),
    "hyper_index": lambda d: iglu.hyper_index(d),
    "hypo_index": lambda d: iglu.hypo_index(d),
    "igc": lambda d: iglu.igc(d),
    "m_value": lambda d: iglu.m_value(d),
    "mag": lambda d: iglu.mag(d),
    "cogi": lambda d: iglu.cogi(d),
    "pgs": lambda d: iglu.pgs(d),
    "auc": lambda d: iglu.auc(d),
    "cv_measures": lambda d: iglu.cv_measures(d),
    "sd_measures": lambda d: iglu.sd_measures(d),
    "sd_roc": lambda d: iglu.sd_roc(d),
}


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def main():
    out_path = sys.argv[1]
    rng = np.random.default_rng(20251125)
    traces = {"jitter_dups_gaps": trace_jitter(rng), "libre_15min": trace_libre(rng), "short_20": trace_short(rng)}
    out = {"library": "iglu-python", "version": iglu.__version__ if hasattr(iglu, "__version__") else "0.4.3",
           "TZ": "UTC", "iglu_r_compatible": iglu.utils.is_iglu_r_compatible(), "traces": {}}
    for name, (t, g) in traces.items():
        csv = "timestamp,value\n" + "".join(
            f"{ts.strftime('%Y-%m-%dT%H:%M:%SZ')},{v:.1f}\n" for ts, v in zip(pd.DatetimeIndex(t).tz_convert("UTC"), g)
        )
        raw = pd.read_csv(__import__("io").StringIO(csv))
        df = pd.DataFrame({"id": "subject", "time": pd.to_datetime(raw["timestamp"], utc=True), "gl": raw["value"].astype(float)})
        res, failed = {}, {}
        for key, call in CALLS.items():
            try:
                r = call(df.copy())
                row = r.iloc[0].to_dict() if isinstance(r, pd.DataFrame) else {"value": r}
                row.pop("id", None)
                res[key] = {str(k): (num(v) if isinstance(v, (int, float, np.floating, np.integer)) else str(v)) for k, v in row.items()}
            except Exception as e:  # noqa: BLE001
                failed[key] = f"{type(e).__name__}: {e}"
        try:
            ep = iglu.episode_calculation(df.copy())
            res["episode_calculation"] = [
                [r["type"], r["level"], num(r["avg_ep_per_day"]), num(r["avg_ep_duration"]), num(r["avg_ep_gl"]), int(r["total_episodes"])]
                for _, r in ep.iterrows()
            ]
        except Exception as e:  # noqa: BLE001
            failed["episode_calculation"] = f"{type(e).__name__}: {e}"
        try:
            gd2d, dates, dt0 = iglu.CGMS2DayByDay(df.copy())
            res["CGMS2DayByDay"] = {"dt0": int(dt0), "first_day": str(dates[0]), "gd2d": [[num(v) for v in row] for row in gd2d]}
            # AGP as iglu's plot_agp computes it: quantile(type 7, na.rm) of each grid column across days.
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    q = np.nanquantile(gd2d, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
            res["agp"] = {k: [num(v) for v in row] for k, row in zip(["p5", "p25", "p50", "p75", "p95"], q)}
        except Exception as e:  # noqa: BLE001
            failed["CGMS2DayByDay"] = f"{type(e).__name__}: {e}"
        out["traces"][name] = {"csv": csv, "metrics": res, "failed": failed}
        print(name, "rows", len(df), "failed", failed, file=sys.stderr)
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
