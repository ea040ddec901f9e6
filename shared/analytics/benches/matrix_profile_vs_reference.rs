//! Matrix profile: ours (glucolens_analytics::matrix_profile::stump) vs stumpy.stump.
//!
//! Cases: the 90-day golden trace (n = 25,920, m = 288; also with the portable kernel that CPUs without AVX2 run)
//! and a seeded synthetic 365-day trace (n = 105,120, m = 288) written to a temp CSV so both sides read the same
//! data. Columns: wall-clock and process CPU time (all threads) of one call, peak RSS. Each case is timed in a child process (this
//! binary re-run with `GLUCOLENS_MP_BENCH_CHILD`), so its peak RSS (VmHWM) is the case's alone. The reference is
//! `bench/reference/matrix_profile.py` run with `GLUCOLENS_BENCH_PYTHON` (default `.venv-bench/bin/python` under the
//! workspace root); numba compilation is excluded there by a warm-up call.
//!
//! Env: GLUCOLENS_MP_BENCH_REPEATS (ours, default 5), GLUCOLENS_MP_BENCH_REF_REPEATS (default 3; 1 for 365 days),
//! GLUCOLENS_MP_BENCH_SKIP_REFERENCE=1 to time only ours.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glucolens_analytics::cgm::parse_cgm_csv;
use glucolens_analytics::matrix_profile::{infer_interval, regular_grid, stump_with, StumpOptions};

const CHILD_ENV: &str = "GLUCOLENS_MP_BENCH_CHILD";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn vm_hwm_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time (user + system, all threads) of this process in seconds, from /proc/self/stat (clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // fields[0] is the state (field 3): utime and stime are fields 14 and 15
    let ticks = |k: usize| {
        fields
            .get(k - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(14) + ticks(15)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

/// Child: time `stump` on one CSV, print `median_s peak_rss_mb n`.
fn child(spec: &str) {
    let mut parts = spec.split('|');
    let (file, m, repeats) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
    );
    let options = StumpOptions {
        portable_kernel: parts.next() == Some("portable"),
        ..StumpOptions::default()
    };
    let points = parse_cgm_csv(&std::fs::read_to_string(file).unwrap()).unwrap();
    let t = regular_grid(&points, infer_interval(&points).unwrap()).unwrap().values;
    drop(points);
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (start, cpu0) = (Instant::now(), cpu_seconds());
        let mp = stump_with(&t, m, &options).unwrap();
        times.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - cpu0);
        std::hint::black_box(mp);
    }
    println!("{} {} {} {}", median(times), vm_hwm_mb(), t.len(), median(cpu));
}

/// Seeded synthetic CGM: daily rhythm, meal bumps, AR noise, a few sensor gaps; 5-minute samples.
fn synthetic_csv(days: usize, seed: u64) -> String {
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = days * 288;
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap();
    let mut out = String::from("timestamp,value\n");
    let (mut noise, mut meal) = (0.0f64, 0.0f64);
    let mut gap_left = 0usize;
    for k in 0..n {
        let minute = (k % 288) as f64 * 5.0;
        if (k % 288 == 84 || k % 288 == 150 || k % 288 == 228) && next() < 0.9 {
            meal += 40.0 + 80.0 * next();
        }
        meal *= 0.97;
        noise = 0.9 * noise + 4.0 * (next() - 0.5);
        let value = (130.0 + 25.0 * (std::f64::consts::TAU * minute / 1440.0).sin() + meal + noise).clamp(39.0, 400.0);
        if gap_left == 0 && next() < 0.0005 {
            gap_left = 6 + (next() * 30.0) as usize;
        }
        if gap_left > 0 {
            gap_left -= 1;
            continue;
        }
        let time = start + chrono::Duration::minutes(5 * k as i64);
        out.push_str(&format!("{},{:.1}\n", time.format("%Y-%m-%dT%H:%M:%SZ"), value));
    }
    out
}

struct Row {
    case: String,
    ours_s: f64,
    ours_rss: f64,
    ours_cpu: f64,
    reference: Option<(f64, f64, f64)>,
}

fn run_ours(file: &Path, m: usize, repeats: usize, kernel: &str) -> (f64, f64, usize, f64) {
    let spec = format!("{}|{m}|{repeats}|{kernel}", file.display());
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, spec)
        .output()
        .expect("re-running the bench binary");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap();
    let f: Vec<&str> = line.split_whitespace().collect();
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

fn run_reference(python: &Path, file: &Path, m: usize, repeats: usize) -> Option<(f64, f64, f64)> {
    let script = workspace_root().join("bench/reference/matrix_profile.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(file)
        .args(["--window", &m.to_string(), "--repeats", &repeats.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let v: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
            let cpu = v["cpu_median_s"].as_f64().unwrap_or(f64::NAN);
            Some((v["median_s"].as_f64()?, v["peak_rss_mb"].as_f64()?, cpu))
        }
        Ok(o) => {
            eprintln!("reference failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("reference not run ({}): {e}", python.display());
            None
        }
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let env_usize = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let repeats = env_usize("GLUCOLENS_MP_BENCH_REPEATS", 5);
    let ref_repeats = env_usize("GLUCOLENS_MP_BENCH_REF_REPEATS", 3);
    let skip_reference = std::env::var("GLUCOLENS_MP_BENCH_SKIP_REFERENCE").is_ok_and(|v| v == "1");
    let python = std::env::var("GLUCOLENS_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv-bench/bin/python"));
    let python_ok = !skip_reference && python.exists();
    if !python_ok && !skip_reference {
        println!(
            "reference python {} not found (set GLUCOLENS_BENCH_PYTHON): timing ours only",
            python.display()
        );
    }

    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/cgm_adult001.csv");
    let synthetic = std::env::temp_dir().join(format!("glucolens_mp_bench_365d_{}.csv", std::process::id()));
    std::fs::write(&synthetic, synthetic_csv(365, 20_260_101)).unwrap();

    // (name, file, m, reference repeats, kernel); the portable-kernel row reuses the row above's reference timing.
    let cases: Vec<(String, PathBuf, usize, usize, &str)> = vec![
        ("90d golden, m=288".into(), golden.clone(), 288, ref_repeats, "auto"),
        ("90d golden, m=288, portable".into(), golden, 288, 0, "portable"),
        (
            "365d synthetic, m=288".into(),
            synthetic.clone(),
            288,
            ref_repeats.min(1),
            "auto",
        ),
    ];
    let mut rows: Vec<Row> = Vec::new();
    for (name, file, m, rr, kernel) in cases {
        let (ours_s, ours_rss, n, ours_cpu) = run_ours(&file, m, repeats, kernel);
        let reference = if !python_ok {
            None
        } else if rr == 0 {
            rows.last().and_then(|r| r.reference)
        } else {
            run_reference(&python, &file, m, rr)
        };
        rows.push(Row {
            case: format!("{name} (n={n})"),
            ours_s,
            ours_rss,
            ours_cpu,
            reference,
        });
    }
    let _ = std::fs::remove_file(&synthetic);

    println!(
        "threads: {} (rayon); ours: median of {repeats} runs; reference: stumpy.stump, warm-up excluded",
        rayon::current_num_threads()
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>10}",
        "case", "ours s", "ref s", "ref/ours", "ours cpu", "ref cpu", "cpu ratio", "ours RSS MB", "ref RSS MB"
    );
    for r in rows {
        let (rs, rcpu, rrss, ratio, cpu_ratio) = match r.reference {
            Some((s, rss, cpu)) => (
                format!("{s:.3}"),
                format!("{cpu:.3}"),
                format!("{rss:.1}"),
                format!("{:.2}x", s / r.ours_s),
                format!("{:.2}x", cpu / r.ours_cpu),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<34} {:>9.3} {:>9} {:>9} {:>9.3} {:>9} {:>9} {:>11.1} {:>10}",
            r.case, r.ours_s, rs, ratio, r.ours_cpu, rcpu, cpu_ratio, r.ours_rss, rrss
        );
    }
    println!("(wall = median wall-clock of one stump call; cpu = process CPU time of that call, all threads)");
}
