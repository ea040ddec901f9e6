"""Writes shared/analytics/tests/golden/clustering.json: day-like profiles (three types of 24 hourly means with
noise, a fixed seed), scikit-learn's KMeans (k = 2..5, n_init=10, random_state=0) inertia and labels,
silhouette_score of those labels, and adjusted_rand_score against the true types. The Rust golden test
(tests/clustering_golden.rs) checks its k-means reaches the same inertia (same grouping), and its silhouette and
adjusted Rand index equal scikit-learn's on the same labels.

Usage: python bench/reference/clustering_golden.py  (needs scikit-learn and numpy)
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

rng = np.random.default_rng(20261130)
hours = np.arange(24)
shapes = [
    120 + 10 * np.exp(-0.5 * (hours - 7) ** 2),
    120 + 120 * (hours >= 21),
    120 - 50 * np.exp(-0.5 * ((hours - 10.5) / 1.2) ** 2),
]
truth = [int(i % 3) for i in range(60)]
rows = np.array([shapes[t] + rng.normal(0, 12, 24) + rng.normal(0, 8) for t in truth])
out = {"sklearn": sklearn.__version__, "rows": rows.tolist(), "truth": truth, "by_k": []}
for k in range(2, 6):
    model = KMeans(n_clusters=k, n_init=10, random_state=0).fit(rows)
    labels = model.labels_.tolist()
    out["by_k"].append({
        "k": k,
        "inertia": float(model.inertia_),
        "labels": labels,
        "silhouette": float(silhouette_score(rows, labels)),
        "ari_vs_truth": float(adjusted_rand_score(truth, labels)),
    })
path = pathlib.Path(__file__).resolve().parents[2] / "shared/analytics/tests/golden/clustering.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(path, [(b["k"], round(b["silhouette"], 4), round(b["ari_vs_truth"], 4)) for b in out["by_k"]])
