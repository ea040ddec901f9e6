#!/usr/bin/env python3
"""Times stumpy.stump (the reference for glucolens_analytics::matrix_profile) on a CGM CSV.

usage: matrix_profile.py FILE.csv --window M [--repeats N] [--interval-min 5]

The series is the `value` column placed on the regular sampling grid (missing slots -> NaN), exactly as the
Rust side does. One warm-up call (numba JIT compile) is excluded. Prints ONE JSON line
{"median_s": .., "peak_rss_mb": .., "cpu_median_s": .., "n": .., "m": ..} (cpu = process CPU time, all threads).
"""
import argparse
import json
import resource
import statistics
import time

import numpy as np
import pandas as pd
import stumpy


def load_grid(path, interval_min):
    df = pd.read_csv(path)
    ts = pd.to_datetime(df["timestamp"], utc=True)
    s = pd.Series(df["value"].to_numpy(dtype=np.float64), index=ts)
    s = s.groupby(level=0).mean()  # duplicates at one instant: mean (same rule as the Rust side)
    grid = pd.date_range(s.index[0], s.index[-1], freq=f"{interval_min}min")
    return s.reindex(grid).to_numpy(dtype=np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--interval-min", type=int, default=5)
    args = ap.parse_args()
    T = load_grid(args.file, args.interval_min)
    stumpy.stump(T[: max(4 * args.window, 64)], args.window)  # warm-up: numba compile
    times, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        stumpy.stump(T, args.window)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"median_s": statistics.median(times), "peak_rss_mb": peak_kb / 1024.0,
                      "cpu_median_s": statistics.median(cpu),
                      "n": int(T.shape[0]), "m": args.window}))


if __name__ == "__main__":
    main()
