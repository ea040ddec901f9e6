#!/usr/bin/env python3
"""Benchmark driver for bench/api/run.sh (standard library only).

  ingest   bulk ingestion through `glucolens serve` (POST /api/v1/glucose/bulk, 90 days of 5-minute readings per
           request, a fresh user each time) against `psql \\copy` of the same rows as CSV, interleaved, same database.
  year     registers one user and loads 365 days of 5-minute readings through the API; prints its access token.
  wrk      parses a `wrk --latency` report and prints one markdown row; fails on any error or non-2xx response.
"""
import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

FIVE_MINUTES = timedelta(minutes=5)
SOURCE = "bench-cgm"


def post(api, path, body, token=None, timeout=600):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def register(api, time_zone="Europe/Paris"):
    """A fresh account; returns (user id, access token)."""
    email = f"bench-{uuid.uuid4().hex}@bench.invalid"
    session = post(api, "/api/v1/auth/register", {"email": email, "password": "benchmark password", "timezone": time_zone})
    return session["user"]["id"], session["tokens"]["access_token"]


def series(end, days):
    """Deterministic CGM-like trace: a daily wave plus a slow drift, 5 minutes apart, ending just before `end`."""
    count = days * 288
    start = end - count * FIVE_MINUTES
    for i in range(count):
        t = start + i * FIVE_MINUTES
        value = 140 + 60 * math.sin(i * 2 * math.pi / 288) + 25 * math.sin(i / 997.0)
        yield t, round(min(max(value, 40.0), 400.0), 1)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def bulk_body(rows):
    return json.dumps({"readings": [{"timestamp": iso(t), "value": v, "unit": "mg/dL", "source": SOURCE} for t, v in rows]}).encode()


def ingest(args):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    rows = list(series(now, 90))
    body = bulk_body(rows)
    csv_path = f"{args.work}/readings.csv"
    api_rates, copy_rates = [], []
    for run in range(args.runs):
        # API: a new user each run, so every row is new.
        _, token = register(args.api)
        started = time.perf_counter()
        counts = post(args.api, "/api/v1/glucose/bulk", body, token)
        api_seconds = time.perf_counter() - started
        if counts.get("inserted") != len(rows):
            sys.exit(f"bulk upload stored {counts} rather than {len(rows)} new readings")
        api_rates.append(len(rows) / api_seconds)
        # COPY: the same rows for another new user, through psql's client-side \copy.
        copy_user, _ = register(args.api)
        with open(csv_path, "w") as csv:
            csv.writelines(f"{copy_user},{iso(t)},{SOURCE},{v}\n" for t, v in rows)
        started = time.perf_counter()
        subprocess.run(
            ["psql", args.database_url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
             f"\\copy glucose_readings (user_id, \"timestamp\", source, value) FROM '{csv_path}' CSV"],
            check=True,
        )
        copy_seconds = time.perf_counter() - started
        copy_rates.append(len(rows) / copy_seconds)
        print(f"run {run + 1}: API {len(rows)} readings in {api_seconds:.3f} s ({api_rates[-1]:,.0f}/s); "
              f"COPY {copy_seconds:.3f} s ({copy_rates[-1]:,.0f}/s)", file=sys.stderr)
    api, copy = statistics.median(api_rates), statistics.median(copy_rates)
    print(f"| Bulk ingestion, {len(rows):,} readings ({len(body) / 1e6:.2f} MB JSON) per request, median of {args.runs} "
          f"| API {api:,.0f} readings/s | psql \\copy {copy:,.0f} readings/s | ratio **{api / copy:.2f}** (target ≥ 0.5) |")


def year(args):
    """365 days of readings for one user, loaded in bulk requests of at most 92 days; prints the access token."""
    _, token = register(args.api)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    rows = list(series(now, 365))
    chunk = 92 * 288
    for first in range(0, len(rows), chunk):
        counts = post(args.api, "/api/v1/glucose/bulk", bulk_body(rows[first:first + chunk]), token)
        if counts.get("inserted") != len(rows[first:first + chunk]):
            sys.exit(f"year load stored {counts}")
    print(token)


def to_ms(raw):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", raw).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(args):
    report = open(args.report).read()
    percentile = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", report, re.M))
    requests = int(re.search(r"(\d+) requests in", report).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
    non_2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", report) or [0, 0])[1])
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    errors = non_2xx + (sum(map(int, socket.groups())) if socket else 0)
    print(f"| {args.label} | {to_ms(percentile['50']):.2f} ms | {to_ms(percentile['99']):.2f} ms | {rate:,.0f} | "
          f"{requests:,} | {errors} |")
    if errors or requests == 0:
        sys.exit(f"{args.label}: {errors} errors in {requests} requests")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ingest_args = commands.add_parser("ingest")
    ingest_args.add_argument("--api", required=True)
    ingest_args.add_argument("--database-url", required=True)
    ingest_args.add_argument("--work", required=True)
    ingest_args.add_argument("--runs", type=int, default=4)
    year_args = commands.add_parser("year")
    year_args.add_argument("--api", required=True)
    wrk_args = commands.add_parser("wrk")
    wrk_args.add_argument("--label", required=True)
    wrk_args.add_argument("--report", required=True)
    args = parser.parse_args()
    {"ingest": ingest, "year": year, "wrk": wrk}[args.command](args)


if __name__ == "__main__":
    main()
