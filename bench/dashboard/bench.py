#!/usr/bin/env python3
"""Driver for bench/dashboard/run.sh (standard library only).

  login     signs a sample account in and prints its access token.
  today     uploads the account's readings of its local today so far (every 5 minutes from local midnight), so the
            day computed live on every request holds what a phone would have sent.
  check     fails unless GET <path> answers 200 with the expected period (a wrong route must not be benchmarked).
  report    reads the wrk reports and pg_stat_statements summaries of every route and prints the markdown table, with
            each route's throughput and p99 against the first route's (GET /auth/me) from the same run.
"""
import argparse
import json
import math
import os
import re
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from bench import to_ms  # noqa: E402  (bench/api/bench.py: wrk's latency units)


def call(api, method, path, body=None, token=None):
    request = urllib.request.Request(api + path, data=None if body is None else json.dumps(body).encode(), method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def login(args):
    session = call(args.api, "POST", "/api/v1/auth/login", {"email": args.email, "password": args.password})
    print(session["tokens"]["access_token"])


def today(args):
    me = call(args.api, "GET", "/api/v1/auth/me", token=args.token)
    zone = ZoneInfo(me["timezone"])
    now = datetime.now(timezone.utc)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    readings, t = [], midnight
    while t < now - timedelta(minutes=1):
        i = len(readings)
        value = round(140 + 50 * math.sin(i / 20.0), 1)
        readings.append({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": value, "unit": "mg/dL", "source": "dexcom"})
        t += timedelta(minutes=5)
    if readings:
        call(args.api, "POST", "/api/v1/glucose/bulk", {"readings": readings}, token=args.token)
    print(f"{len(readings)} readings today ({me['timezone']})", file=sys.stderr)


def check(args):
    body = call(args.api, "GET", args.path, token=args.token)
    if "days" in body and body["current"]["glucose"]["reading_count"] == 0:
        sys.exit(f"{args.path}: no readings in the current period")


def wrk_figures(path):
    report = open(path).read()
    percentile = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", report, re.M))
    non_2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", report) or [0, 0])[1])
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    return {
        "p50": to_ms(percentile["50"]),
        "p99": to_ms(percentile["99"]),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1)),
        "requests": int(re.search(r"(\d+) requests in", report).group(1)),
        "errors": non_2xx + (sum(map(int, socket.groups())) if socket else 0),
    }


def report(args):
    """Each route is `label|wrk report|statements file`; the statements file holds `calls<TAB>plans<TAB>ms<TAB>query`
    rows (ms: planning and execution)."""
    rows, failed = [], []
    for route in args.routes:
        label, wrk_path, statements_path = route.split("|")
        figures = wrk_figures(wrk_path)
        statements = [line.split("\t", 3) for line in open(statements_path).read().splitlines() if line.strip()]
        per_request = lambda total: total / figures["requests"] if figures["requests"] else 0  # noqa: E731
        figures["statements"] = per_request(sum(int(c) for c, _, _, _ in statements))
        figures["plans"] = per_request(sum(int(p) for _, p, _, _ in statements))
        figures["db_us"] = per_request(1000 * sum(float(ms) for _, _, ms, _ in statements))
        rows.append((label, figures))
        if figures["errors"] or figures["requests"] == 0:
            failed.append(label)
    base = rows[0][1]
    print("| route | req/s | × /auth/me | p50 | p99 | statements per request | plannings per request | "
          "PostgreSQL planning + execution per request |")
    print("|---|---|---|---|---|---|---|---|")
    for label, f in rows:
        print(f"| {label} | {f['rate']:,.0f} | {f['rate'] / base['rate']:.2f} | {f['p50']:.2f} ms | {f['p99']:.2f} ms | "
              f"{f['statements']:.2f} | {f['plans']:.2f} | {f['db_us']:.0f} µs |")
    if failed:
        sys.exit(f"errors in: {', '.join(failed)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("login")
    p.add_argument("--api", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p = commands.add_parser("today")
    p.add_argument("--api", required=True)
    p.add_argument("--token", required=True)
    p = commands.add_parser("check")
    p.add_argument("--api", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--path", required=True)
    p = commands.add_parser("report")
    p.add_argument("routes", nargs="+")
    args = parser.parse_args()
    {"login": login, "today": today, "check": check, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
