#!/usr/bin/env python3
"""Benchmark driver for bench/copy/run.sh (standard library only).

  ingest    the same N readings (USERS users x PER_REQUEST readings) loaded several ways into glucose_readings, in
            interleaved rounds with fresh users: `psql \\copy` of a CSV (one stream, and two in parallel), and
            `POST /api/v1/glucose/bulk` (PER_REQUEST readings per request) against a server using COPY staging
            (CLIENTS concurrent clients, and one client) and one forced onto the UNNEST path (CLIENTS clients).
            Prints rows/s, medians and ratios.
  latency   one client posting batches of each size in turn to both servers: median request time per size, to
            place the COPY threshold.
  copy      times `psql \\copy` of CSV files (in parallel when several) into glucose_readings; prints seconds.
"""
import argparse
import json
import math
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

FIVE_MINUTES = timedelta(minutes=5)
SOURCE = "bench-cgm"


def post(api, path, body, token=None, timeout=900):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def register(api):
    """A fresh account; returns (user id, access token)."""
    email = f"copy-{uuid.uuid4().hex}@bench.invalid"
    session = post(api, "/api/v1/auth/register", {"email": email, "password": "benchmark password", "time_zone": "UTC"})
    return session["user"]["id"], session["tokens"]["access_token"]


def series(end, count):
    """A CGM-like trace of `count` readings 5 minutes apart ending before `end`: (ISO time, mg/dL)."""
    start = end - count * FIVE_MINUTES
    for i in range(count):
        value = 140 + 60 * math.sin(i * 2 * math.pi / 288) + 25 * math.sin(i / 997.0)
        yield (start + i * FIVE_MINUTES).strftime("%Y-%m-%dT%H:%M:%SZ"), round(min(max(value, 40.0), 400.0), 1)


def bulk_body(rows):
    # Compact: 50,000 readings must stay under the 5 MB body limit.
    readings = [{"timestamp": t, "value": v, "source": SOURCE} for t, v in rows]
    return json.dumps({"readings": readings}, separators=(",", ":")).encode()


def psql_copy(database_url, paths):
    """`\\copy` each CSV file into glucose_readings, all at once; returns the wall seconds."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen(["psql", database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          f"\\copy glucose_readings (user_id, \"timestamp\", source, value) FROM '{path}' CSV"])
        for path in paths
    ]
    if any(p.wait() != 0 for p in processes):
        sys.exit("psql \\copy failed")
    return time.perf_counter() - started


def write_csv(path, users, rows):
    with open(path, "w") as csv:
        for user in users:
            csv.writelines(f"{user},{t},{SOURCE},{v}\n" for t, v in rows)


def api_load(api, tokens, body, per_request, clients):
    """Posts `body` once per token, `clients` at a time; returns the wall seconds."""
    def one(token):
        counts = post(api, "/api/v1/glucose/bulk", body, token)
        if counts.get("inserted") != per_request:
            raise RuntimeError(f"bulk upload stored {counts}, not {per_request} new readings")
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, tokens))
    return time.perf_counter() - started


def ingest(args):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    rows = list(series(now, args.per_request))
    body = bulk_body(rows)
    total = args.users * args.per_request
    methods = ["copy-1", "copy-2", "api-copy", "api-copy-1", "api-unnest"]
    rates = {m: [] for m in methods}
    for round_ in range(args.rounds):
        # Fresh users per method, registered before anything is timed.
        copy_users = [register(args.api_copy)[0] for _ in range(args.users)]
        copy2_users = [register(args.api_copy)[0] for _ in range(args.users)]
        tokens = {
            "api-copy": [register(args.api_copy)[1] for _ in range(args.users)],
            "api-copy-1": [register(args.api_copy)[1] for _ in range(args.users)],
            "api-unnest": [register(args.api_unnest)[1] for _ in range(args.users)],
        }
        single = f"{args.work}/copy-1.csv"
        write_csv(single, copy_users, rows)
        halves = [f"{args.work}/copy-2a.csv", f"{args.work}/copy-2b.csv"]
        write_csv(halves[0], copy2_users[: args.users // 2], rows)
        write_csv(halves[1], copy2_users[args.users // 2:], rows)
        # A different order each round, so no method always follows the same one.
        order = methods[round_ % len(methods):] + methods[: round_ % len(methods)]
        for method in order:
            if method == "copy-1":
                seconds = psql_copy(args.database_url, [single])
            elif method == "copy-2":
                seconds = psql_copy(args.database_url, halves)
            else:
                api = args.api_unnest if method == "api-unnest" else args.api_copy
                clients = 1 if method == "api-copy-1" else args.clients
                seconds = api_load(api, tokens[method], body, args.per_request, clients)
            rates[method].append(total / seconds)
            print(f"round {round_ + 1}: {method:<10} {total:,} readings in {seconds:6.2f} s = {total / seconds:9,.0f}/s",
                  file=sys.stderr)
    median = {m: statistics.median(r) for m, r in rates.items()}
    print(f"{total:,} readings ({args.users} users × {args.per_request:,}; {len(body) / 1e6:.2f} MB JSON per request), "
          f"median of {args.rounds} interleaved rounds:")
    print()
    print("| method | readings/s (median) | runs | vs `psql \\copy` |")
    print("|---|---|---|---|")
    labels = {
        "copy-1": "`psql \\copy`, one stream (CSV)",
        "copy-2": "`psql \\copy`, two streams in parallel",
        "api-copy": f"`POST /glucose/bulk`, {args.clients} clients, COPY staging",
        "api-copy-1": "`POST /glucose/bulk`, 1 client, COPY staging",
        "api-unnest": f"`POST /glucose/bulk`, {args.clients} clients, UNNEST (`GLUCOLENS_COPY_MIN_ROWS` huge)",
    }
    for m in methods:
        runs = ", ".join(f"{r:,.0f}" for r in rates[m])
        print(f"| {labels[m]} | {median[m]:,.0f} | {runs} | **{median[m] / median['copy-1']:.2f}** |")
    print()
    print(f"API with COPY / API with UNNEST: **{median['api-copy'] / median['api-unnest']:.2f}**; "
          f"API with COPY / two-stream \\copy: **{median['api-copy'] / median['copy-2']:.2f}**")


def latency(args):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    print(f"One client, median request time of `POST /glucose/bulk` (fresh readings each request):")
    print()
    print("| readings per request | requests | COPY staging | UNNEST | UNNEST / COPY |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        requests = max(10, min(args.requests, args.readings_per_size // size))
        medians = []
        for api in (args.api_copy, args.api_unnest):
            _, token = register(api)
            # Consecutive requests cover consecutive, older spans of time: every reading is new.
            trace = list(series(now, size * requests))
            times = []
            for r in range(requests):
                body = bulk_body(trace[r * size:(r + 1) * size])
                started = time.perf_counter()
                counts = post(api, "/api/v1/glucose/bulk", body, token)
                times.append(time.perf_counter() - started)
                if counts.get("inserted") != size:
                    sys.exit(f"stored {counts}, not {size} new readings")
            medians.append(statistics.median(times) * 1000)
        print(f"| {size:,} | {requests} | {medians[0]:.2f} ms | {medians[1]:.2f} ms | {medians[1] / medians[0]:.2f} |")


def copy(args):
    print(f"{psql_copy(args.database_url, args.csv):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ingest_args = commands.add_parser("ingest")
    latency_args = commands.add_parser("latency")
    for sub in (ingest_args, latency_args):
        sub.add_argument("--api-copy", required=True)
        sub.add_argument("--api-unnest", required=True)
    ingest_args.add_argument("--database-url", required=True)
    ingest_args.add_argument("--work", required=True)
    ingest_args.add_argument("--users", type=int, default=20)
    ingest_args.add_argument("--per-request", type=int, default=50_000)
    ingest_args.add_argument("--clients", type=int, default=4)
    ingest_args.add_argument("--rounds", type=int, default=3)
    latency_args.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 100, 1000, 10000, 50000])
    latency_args.add_argument("--requests", type=int, default=100)
    latency_args.add_argument("--readings-per-size", type=int, default=100_000)
    copy_args = commands.add_parser("copy")
    copy_args.add_argument("--database-url", required=True)
    copy_args.add_argument("csv", nargs="+")
    args = parser.parse_args()
    {"ingest": ingest, "latency": latency, "copy": copy}[args.command](args)


if __name__ == "__main__":
    main()
