#!/usr/bin/env python3
"""Measurement records and the report of bench/pipeline/run.sh.

`record` turns one step's /usr/bin/time -v output, the CLI's own printed timings and PostgreSQL counter snapshots
into a JSON line; `render` prints the markdown table and the 100,000-user projection from those lines.
"""

import argparse
import json
import math
import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

# ---- Assumptions of the projection (stated in the output) --------------------------------------------------------
PROJECTED_USERS = 100_000
WORKER_MEMORY_MB = 1024  # template.yaml AnalysisWorkerFunction MemorySize
FAN_OUT_MEMORY_MB = 256  # template.yaml Globals (the scheduled job functions)
FAN_OUT_TIMEOUT_S = 300  # template.yaml scheduled job functions
WORKER_TIMEOUT_S = 90  # template.yaml AnalysisWorkerFunction Timeout
BATCH_SIZE = 10  # template.yaml SQS event BatchSize; records are processed one after another
TEMPLATE_CONCURRENCY = 5  # template.yaml WorkerMaxConcurrency default
POOL_CONNECTIONS = 2  # template.yaml DB_MAX_CONNECTIONS
# Lambda gives a function CPU in proportion to memory: one full vCPU at 1,769 MB.
FULL_VCPU_MB = 1769
PRICE_GB_S = 0.0000166667  # x86, USD
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_SQS_REQUEST = 0.40 / 1_000_000
# Steps of run.sh projected, and how often each runs: aggregation of one new day at 03:00 and correlations at 04:00
# UTC every day, patterns on Sundays at 05:00; the 90-day backfill aggregation happens once per new user.
PROJECTED_STEPS = {
    "aggregate-daily": "once per user (90-day backfill)",
    "aggregate-daily-nightly": "nightly",
    "compute-correlations": "nightly",
    "discover-patterns": "weekly",
}
# Round trip Lambda (in the VPC) → RDS per statement, on top of its execution time.
RDS_ROUND_TRIP_S = 0.001
# `job --drain` stops at the first empty receive, which long-polls for 1 s (cli/src/worker_poll.rs): not work.
DRAIN_FINAL_WAIT_S = 1.0
DAYS_PER_MONTH = 30.4
WEEKS_PER_MONTH = 4.35


def parse_time_file(text):
    def field(label, convert=float):
        match = re.search(re.escape(label) + r".*?:\s*(\S+)\s*$", text, re.M)
        return convert(match.group(1)) if match else None

    def wall(raw):
        seconds = 0.0
        for part in raw.split(":"):
            seconds = seconds * 60 + float(part)
        return seconds

    return {
        "wall_s": field("Elapsed (wall clock) time", wall),
        "user_s": field("User time (seconds)"),
        "sys_s": field("System time (seconds)"),
        "max_rss_kb": field("Maximum resident set size (kbytes)", int),
    }


def parse_cli_output(text):
    found = {}
    if m := re.search(r"(\d+) messages for (\d+) users sent in ([\d.]+) s", text):
        found.update(messages_sent=int(m.group(1)), fan_out_users=int(m.group(2)), fan_out_s=float(m.group(3)))
    if m := re.search(r"processed (\d+) messages \((\d+) failed[^)]*\) in ([\d.]+) s", text):
        found.update(processed=int(m.group(1)), failed=int(m.group(2)), drain_s=float(m.group(3)))
    if m := re.search(r"(\d+) accounts created .*?(\d+) glucose readings inserted.*?; ([\d.]+) s", text, re.S):
        found.update(accounts=int(m.group(1)), readings=int(m.group(2)), sample_s=float(m.group(3)))
    return found


# The log line each kind of message ends with (shared/app/src/jobs.rs), by step name prefix.
COMPLETION_LINES = {
    "aggregate-daily": "aggregated",
    "compute-correlations": "correlations computed",
    "discover-patterns": "patterns discovered",
}
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+)Z\s+\w+\s+(.*?) user_id=(\S+)")


def processing_times(step, log_lines):
    """Per-message processing time from the worker's log timestamps, leaving out the local queue's latency.

    Records of a batch run back to back, so the gap between two consecutive completion lines is the later message's
    whole processing; only about one gap in ten (a batch boundary) also holds a receive and a delete from moto, which
    on AWS the event source mapping does outside the function: the median gap leaves those out. Correlations and
    patterns messages also log when their (incremental, usually empty) aggregation ends, which gives the analysis
    alone per message.
    """
    kind = next((line for prefix, line in COMPLETION_LINES.items() if step.startswith(prefix)), None)
    if kind is None:
        return {}
    events = []
    for line in log_lines:
        if m := LOG_LINE.match(line):
            events.append((datetime.fromisoformat(m.group(1)).timestamp(), m.group(2), m.group(3)))
    done = [t for t, message, _ in events if message == kind]
    found = {}
    if len(done) >= 3:
        gaps = [b - a for a, b in zip(done, done[1:])]
        found.update(median_gap_s=statistics.median(gaps), mean_gap_s=statistics.fmean(gaps))
    if kind != "aggregated":
        started = {}
        own = []
        for t, message, user in events:
            if message == "aggregated":
                started[user] = t
            elif message == kind and user in started:
                own.append(t - started.pop(user))
        if own:
            found.update(analysis_mean_s=statistics.fmean(own), analysis_max_s=max(own))
    return found


def record(args):
    time_text = Path(args.time_file).read_text(errors="replace")
    # The CLI logs to stdout (tracing's default writer) and reports errors on stderr: read both.
    stdout = Path(args.stdout_file).read_text(errors="replace")
    output = stdout + "\n" + Path(args.stderr_file).read_text(errors="replace")
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
    # sqlx's "slow statement" warnings (over 1 s) are counted apart: they are findings, not failures.
    slow = [line for line in lines if "slow statement" in line]
    problems = [
        line
        for line in lines
        if re.search(r"\b(WARN|ERROR)\b|^error:|panicked", line) and "slow statement" not in line
    ]
    before, after = json.loads(args.before), json.loads(args.after)
    entry = {
        "scenario": args.scenario,
        "step": args.step,
        "users": args.users,
        "status": args.status,
        **parse_time_file(time_text),
        **parse_cli_output(stdout),
        **processing_times(args.step, lines),
        "db": {key: after[key] - before[key] for key in after},
        "statements": json.loads(args.statements),
        "slow_statements": len(slow),
        "warnings": len(problems),
        "first_warning": problems[0][:300] if problems else None,
    }
    print(json.dumps(entry))


# ---- Rendering --------------------------------------------------------------------------------------------------


def fmt(value, digits=2):
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def cli_timing(m):
    parts = []
    if "sample_s" in m:
        parts.append(f"{m.get('accounts', 0)} accounts, {m.get('readings', 0):,} readings in {m['sample_s']:.1f} s")
    if "fan_out_s" in m:
        parts.append(f"fan-out {m['messages_sent']:,} msgs in {m['fan_out_s']:.2f} s")
    if "drain_s" in m:
        parts.append(f"drain {m['processed']:,} msgs ({m['failed']} failed) in {m['drain_s']:.2f} s")
        if m["processed"]:
            work = max(0.0, m["drain_s"] - DRAIN_FINAL_WAIT_S)
            parts.append(f"**{work / m['processed']:.3f} s/msg**, {m['processed'] / work if work else 0:.1f} msgs/s")
    return "; ".join(parts) or "–"


def log_timing(m):
    parts = []
    if "median_gap_s" in m:
        parts.append(f"gap median {m['median_gap_s']:.3f}, mean {m['mean_gap_s']:.3f}")
    if "analysis_mean_s" in m:
        parts.append(f"analysis mean {m['analysis_mean_s']:.3f}, max {m['analysis_max_s']:.3f}")
    return "; ".join(parts) or "–"


def table(measurements):
    rows = [
        "| Scenario | Step | Users | Wall (s) | CPU user+sys (s) | Peak RSS (MB) | CLI's own timing | Per message from "
        "the log (s) | Queries | Queries/user | DB exec ms/user | Commits/user | Connections opened | Exit |",
        "|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        users = max(m["users"], 1)
        cpu = cpu_s(m)
        calls = int(m["statements"]["calls"])
        rows.append(
            f"| {m['scenario']} | {m['step']} | {m['users']:,} | {fmt(m['wall_s'])} | {fmt(cpu)} | "
            f"{fmt((m['max_rss_kb'] or 0) / 1024, 1)} | {cli_timing(m)} | {log_timing(m)} | {calls:,} | "
            f"{fmt(calls / users, 1)} | "
            f"{fmt(m['statements']['exec_ms'] / users, 1)} | {fmt(m['db']['xact_commit'] / users, 1)} | "
            f"{m['db']['sessions']:,} | {m['status']} |"
        )
    return "\n".join(rows)


def cpu_s(m):
    return (m["user_s"] or 0) + (m["sys_s"] or 0)


def per_user(measurements, step):
    """Worker figures per message for `step`: the fleet's drain when measured, else the single user's. The CPU of a
    process that starts, fans out nothing and polls an empty queue (step `baseline`) is not counted as work."""
    baseline = next((cpu_s(m) for m in measurements if m["step"] == "baseline" and m["status"] == 0), 0.0)
    for scenario in ("fleet", "single"):
        for m in measurements:
            if m["scenario"] == scenario and m["step"] == step and m.get("processed") and m["status"] == 0:
                n = m["processed"]
                cpu = max(0.0, cpu_s(m) - baseline) / n
                if "median_gap_s" in m:
                    local, how = m["median_gap_s"], "median log gap"
                elif "analysis_mean_s" in m:
                    local, how = m["analysis_mean_s"], "analysis log span"
                else:
                    # One message: its drain, less the final empty receive (still holds one receive and delete).
                    local, how = max(0.0, m["drain_s"] - DRAIN_FINAL_WAIT_S) / n, "drain wall"
                share = WORKER_MEMORY_MB / FULL_VCPU_MB
                queries = m["statements"]["calls"] / n
                exec_s = m["statements"]["exec_ms"] / 1000 / n
                # Wall time on this shared, loaded machine is mostly waiting for a core, so the estimate is built
                # from what does not depend on the load: the client's CPU time at Lambda's CPU share, plus the
                # database's execution time and one network round trip per statement.
                lam = cpu / share + exec_s + queries * RDS_ROUND_TRIP_S
                return {
                    "source": f"{scenario}, {n:,} msgs, {how}",
                    "local_s": local,
                    "cpu_s": cpu,
                    "lambda_s": lam,
                    "queries": m["statements"]["calls"] / n,
                    "exec_ms": m["statements"]["exec_ms"] / n,
                    "commits": m["db"]["xact_commit"] / n,
                    "rss_mb": (m["max_rss_kb"] or 0) / 1024,
                }
    return None


def projection(measurements, fleet_outcome, fleet_empty):
    jobs = {step: per_user(measurements, step) for step in PROJECTED_STEPS}
    fan_out = next((m for m in measurements if m["step"] == "fan-out-only" and m.get("fan_out_s")), None)
    share = WORKER_MEMORY_MB / FULL_VCPU_MB
    out = [
        f"### Projection for {PROJECTED_USERS:,} users",
        "",
        "Assumptions: worker 1,024 MB (template.yaml), so about "
        f"{share:.2f} vCPU (Lambda allots one vCPU per 1,769 MB); a message's Lambda duration = its client CPU time "
        f"(user+sys of the process less the idle `baseline` process, per message) ÷ {share:.2f} + its statements' "
        f"PostgreSQL execution time (pg_stat_statements) + {RDS_ROUND_TRIP_S * 1000:.0f} ms network round trip per "
        "statement. Local wall time is not used: on this shared machine it is mostly waiting for a core. Batches of "
        f"{BATCH_SIZE} processed one record after another; x86 price ${PRICE_GB_S:.10f}/GB-s and $0.20 per 1M "
        "requests; SQS $0.40 per 1M requests (a send batch, a receive and a delete batch per 10 messages); cold starts "
        "(one per instance, ~0.3 s incl. secrets and pool) are left out.",
        "",
        "| Step | Runs | Measured from | Local wall s/user (loaded) | CPU s/user | Est. Lambda s/user | Worker-hours per run | Run time at "
        f"concurrency {TEMPLATE_CONCURRENCY} | Concurrency for 1 h | Batch of {BATCH_SIZE} vs {WORKER_TIMEOUT_S} s timeout | "
        "Lambda $ per run | SQS $ per run | Queries/user | DB exec ms/user |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    nightly_s = 0.0
    monthly = 0.0
    for job, figures in jobs.items():
        runs = PROJECTED_STEPS[job]
        if figures is None:
            out.append(f"| {job} | {runs} | not measured | | | | | | | | | | | |")
            continue
        total_s = PROJECTED_USERS * figures["lambda_s"]
        at_template = total_s / TEMPLATE_CONCURRENCY
        needed = math.ceil(total_s / 3600)
        batch_s = BATCH_SIZE * figures["lambda_s"]
        gb_s = total_s * WORKER_MEMORY_MB / 1024
        lambda_cost = gb_s * PRICE_GB_S + PROJECTED_USERS / BATCH_SIZE * PRICE_LAMBDA_REQUEST
        sqs_cost = 3 * PROJECTED_USERS / BATCH_SIZE * PRICE_SQS_REQUEST
        if runs == "nightly":
            nightly_s += at_template
            monthly += DAYS_PER_MONTH * (lambda_cost + sqs_cost)
        elif runs == "weekly":
            monthly += WEEKS_PER_MONTH * (lambda_cost + sqs_cost)
        verdict = "ok" if batch_s < WORKER_TIMEOUT_S else "**exceeds**"
        out.append(
            f"| {job} | {runs} | {figures['source']} | {figures['local_s']:.3f} | {figures['cpu_s']:.3f} | "
            f"{figures['lambda_s']:.3f} | {total_s / 3600:,.1f} | {at_template / 3600:,.1f} h | {needed:,} | "
            f"{batch_s:.0f} s {verdict} | ${lambda_cost:,.2f} | ${sqs_cost:,.3f} | {figures['queries']:.1f} | "
            f"{figures['exec_ms']:.1f} |"
        )
    out.append("")
    if fan_out:
        per_message = fan_out["fan_out_s"] / max(fan_out["messages_sent"], 1)
        fan_out_total = per_message * PROJECTED_USERS
        verdict = "within" if fan_out_total < FAN_OUT_TIMEOUT_S else "**beyond**"
        out.append(
            f"- Fan-out: {fan_out['messages_sent']:,} messages enqueued in {fan_out['fan_out_s']:.2f} s locally "
            f"(moto), i.e. {per_message * 1000:.2f} ms per message sent sequentially in batches of 10; "
            f"{PROJECTED_USERS:,} users ≈ {fan_out_total:,.0f} s, {verdict} the scheduled functions' "
            f"{FAN_OUT_TIMEOUT_S} s timeout (real SQS SendMessageBatch round trips, ~10–30 ms per batch of 10, give "
            f"{PROJECTED_USERS / 10 * 0.010:,.0f}–{PROJECTED_USERS / 10 * 0.030:,.0f} s); cost ≈ "
            f"${fan_out_total * FAN_OUT_MEMORY_MB / 1024 * PRICE_GB_S:,.4f} per run."
        )
    out.append(
        f"- Nightly run (one day's aggregation + correlations) at the template's concurrency {TEMPLATE_CONCURRENCY}: "
        f"≈ {nightly_s / 3600:,.1f} h; patterns weekly on top. Worker cost ≈ ${monthly:,.2f} per month "
        f"({DAYS_PER_MONTH} nightly runs, {WEEKS_PER_MONTH} weekly pattern runs; backfills of new users extra)."
    )
    out += [
        "",
        "Database load while a step runs, at the template's concurrency and at the concurrency that finishes it in "
        f"1 h (each instance holds a pool of {POOL_CONNECTIONS} connections, one in use since records run one after "
        "another; busy backends = pg_stat_statements execution time per second of wall time):",
        "",
        "| Step | Concurrency | Queries/s | Commits/s | Busy backends | Connections (max) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, figures in jobs.items():
        if figures is None or not figures["lambda_s"]:
            continue
        for concurrency in sorted({TEMPLATE_CONCURRENCY, math.ceil(PROJECTED_USERS * figures["lambda_s"] / 3600)}):
            rate = concurrency / figures["lambda_s"]
            out.append(
                f"| {step} | {concurrency:,} | {rate * figures['queries']:,.0f} | {rate * figures['commits']:,.0f} | "
                f"{rate * figures['exec_ms'] / 1000:,.2f} | {concurrency * POOL_CONNECTIONS:,} |"
            )
    out.append("")
    if fleet_outcome and fleet_outcome.get("users"):
        users = fleet_outcome["users"]
        # The migrated, empty database's own size is not per-user data.
        per_user_bytes = (fleet_outcome["database_bytes"] - fleet_empty.get("database_bytes", 0)) / users
        out.append(
            f"- Storage: {fleet_outcome['database_bytes'] / 2**30:.2f} GiB for {users:,} users × their days "
            f"({fleet_outcome['glucose_bytes'] / 2**30:.2f} GiB glucose_readings with its index), i.e. "
            f"{per_user_bytes / 2**20:.1f} MiB per user; {PROJECTED_USERS:,} users ≈ "
            f"{per_user_bytes * PROJECTED_USERS / 2**30:,.0f} GiB for the same span."
        )
    return "\n".join(out)


def render(args):
    measurements = [json.loads(line) for line in Path(args.measurements).read_text().splitlines() if line.strip()]
    single_outcome = json.loads(args.single_outcome) if args.single_outcome else {}
    fleet_outcome = json.loads(args.fleet_outcome) if args.fleet_outcome else {}
    fleet_empty = json.loads(args.fleet_empty) if args.fleet_empty else {}
    print(f"## Pipeline benchmark run of {args.started}")
    print()
    print(f"- Command: `{args.command}`")
    print(f"- Machine: {args.machine}; PostgreSQL {args.postgres}, moto SQS, all on the same machine.")
    print(
        "- Each step is one `glucolens` process under `/usr/bin/time -v` (wall, CPU, peak RSS); `job <kind> --drain` "
        "fans out and then processes the queue in the same process, one batch at a time, records one after another "
        f"(as one worker instance does); DB_MAX_CONNECTIONS={POOL_CONNECTIONS}. Queries = pg_stat_statements calls "
        "(statements sent by the client; BEGIN/COMMIT included); commits and connections from pg_stat_database."
    )
    print()
    print(table(measurements))
    print()
    print(f"- Rows after the single-user run: `{json.dumps(single_outcome)}`")
    print(f"- Rows after the fleet run: `{json.dumps(fleet_outcome)}`")
    print(f"- Queue depth (visible / in flight): probe queue `{args.probe_queue}`, fleet queue `{args.fleet_queue}`")
    warnings = [m for m in measurements if m["warnings"] or m["status"]]
    for m in warnings:
        print(
            f"- {m['scenario']} {m['step']}: exit {m['status']}, {m['warnings']} warning/error lines; first: "
            f"`{m['first_warning']}`"
        )
    print()
    print(projection(measurements, fleet_outcome, fleet_empty))
    statements = sorted(Path(args.statements_dir).glob("statements-single-*.tsv"))
    if statements:
        print()
        print("### Statements of one user's analysis (calls, total ms, statement)")
        for path in statements:
            print()
            print(f"{path.stem.removeprefix('statements-single-')}:")
            print()
            print("```")
            print(path.read_text().rstrip())
            print("```")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record")
    for name in ("scenario", "step", "time-file", "stdout-file", "stderr-file", "before", "after", "statements"):
        rec.add_argument(f"--{name}", required=True)
    rec.add_argument("--users", type=int, required=True)
    rec.add_argument("--status", type=int, required=True)
    ren = sub.add_parser("render")
    for name in ("measurements", "machine", "postgres", "started", "command", "statements-dir"):
        ren.add_argument(f"--{name}", required=True)
    for name in ("single-outcome", "fleet-outcome", "fleet-empty", "probe-queue", "fleet-queue"):
        ren.add_argument(f"--{name}", default="")
    args = parser.parse_args()
    {"record": record, "render": render}[args.action](args)


if __name__ == "__main__":
    sys.exit(main())
