"""Times mlxtend 0.25 apriori + association_rules on a 0/1 item CSV (optional first `date` column).

Usage: rules.py ITEMS.csv --min-support 0.1 [--metric confidence] [--min-threshold 0.8] [--max-len K] [--repeats 5]
Prints one JSON line {"median_s": .., "peak_rss_mb": .., "n_itemsets": .., "n_rules": ..}. The CSV is read into a
boolean DataFrame once, outside the timing.
"""
import argparse
import json
import resource
import statistics
import time

import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("items")
    ap.add_argument("--min-support", type=float, required=True)
    ap.add_argument("--metric", default="confidence")
    ap.add_argument("--min-threshold", type=float, default=0.8)
    ap.add_argument("--max-len", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    df = pd.read_csv(args.items)
    if df.columns[0] == "date":
        df = df.drop(columns=["date"])
    df = df.astype(bool)
    n = len(df)

    def once():
        itemsets = apriori(df, min_support=args.min_support, use_colnames=True, max_len=args.max_len)
        if len(itemsets) == 0:
            return itemsets, None
        rules = association_rules(
            itemsets, num_itemsets=n, metric=args.metric.replace("_support", " support"),
            min_threshold=args.min_threshold,
        )
        return itemsets, rules

    itemsets, rules = once()  # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "median_s": statistics.median(times),
        "peak_rss_mb": peak_mb,
        "n_itemsets": len(itemsets),
        "n_rules": 0 if rules is None else len(rules),
    }))


if __name__ == "__main__":
    main()
