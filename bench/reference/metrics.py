"""Times iglu-python on the full GlucoLens metric set (the calls of the iglu golden files).

Usage: python metrics.py CGM.csv [--repeats N]
Prints one JSON line: {"median_s": .., "peak_rss_mb": .., "repeats": N, "calls": K}
"""
import argparse
import json
import os
import resource
import statistics
import time

os.environ.setdefault("TZ", "UTC")
time.tzset()

import pandas as pd  # noqa: E402
import iglu_python as iglu  # noqa: E402


def load(path):
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {"id": "subject", "time": pd.to_datetime(raw["timestamp"], utc=True), "gl": raw["value"].astype(float)}
    )


CALLS = [
    lambda d: iglu.mean_glu(d),
    lambda d: iglu.median_glu(d),
    lambda d: iglu.sd_glu(d),
    lambda d: iglu.cv_glu(d),
    lambda d: iglu.range_glu(d),
    lambda d: iglu.iqr_glu(d),
    lambda d: iglu.quantile_glu(d),
    lambda d: iglu.mad_glu(d),
    lambda d: iglu.summary_glu(d),
    lambda d: iglu.gmi(d),
    lambda d: iglu.ea1c(d),
    lambda d: iglu.in_range_percent(d, target_ranges=[[70, 180], [70, 140], [54, 250], [63, 140]]),
    lambda d: iglu.below_percent(d, targets_below=[54, 70]),
    lambda d: iglu.above_percent(d, targets_above=[140, 180, 250]),
    lambda d: iglu.active_percent(d),
    lambda d: iglu.mage(d),
    lambda d: iglu.mage(d, version="naive"),
    lambda d: iglu.modd(d),
    lambda d: iglu.conga(d),
    lambda d: iglu.conga(d, n=1),
    lambda d: iglu.lbgi(d),
    lambda d: iglu.hbgi(d),
    lambda d: iglu.adrr(d),
    lambda d: iglu.j_index(d),
    lambda d: iglu.grade(d),
    lambda d: iglu.grade_eugly(d),
    lambda d: iglu.grade_hyper(d),
    lambda d: iglu.grade_hypo(d),
    lambda d: iglu.gri(d),
    lambda d: iglu.gvp(d),
    lambda d: iglu.hyper_index(d),
    lambda d: iglu.hypo_index(d),
    lambda d: iglu.igc(d),
    lambda d: iglu.m_value(d),
    lambda d: iglu.mag(d),
    lambda d: iglu.cogi(d),
    lambda d: iglu.pgs(d),
    lambda d: iglu.auc(d),
    lambda d: iglu.cv_measures(d),
    lambda d: iglu.sd_measures(d),
    lambda d: iglu.sd_roc(d),
    lambda d: iglu.episode_calculation(d),
    # AGP percentiles as iglu's plot_agp computes them: quantiles per grid column.
    lambda d: __import__("numpy").nanquantile(
        iglu.CGMS2DayByDay(d.copy())[0], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0
    ),
]


def run_all(path):
    data = load(path)
    for call in CALLS:
        call(data.copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cgm")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    run_all(args.cgm)  # warm-up (imports, caches)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run_all(args.cgm)
        times.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"median_s": statistics.median(times), "peak_rss_mb": peak_mb, "repeats": args.repeats, "calls": len(CALLS)}))


if __name__ == "__main__":
    main()
