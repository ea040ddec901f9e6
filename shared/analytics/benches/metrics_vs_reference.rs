//! Full metric set (`metrics::compute`) on the 90-day simulated trace vs iglu-python (bench/reference/metrics.py).
//!
//! Run: `cargo bench -p glucolens-analytics --bench metrics_vs_reference`. The reference runs through the Python in
//! `GLUCOLENS_BENCH_PYTHON` (default `.venv-bench/bin/python` under the workspace root); without it only our
//! timings are printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glucolens_analytics::cgm::parse_cgm_csv;
use glucolens_analytics::metrics;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn vm_hwm_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct Reference {
    median_s: f64,
    peak_rss_mb: f64,
}

fn reference(python: &Path, script: &Path, input: &Path, repeats: usize) -> Result<Reference, String> {
    let out = Command::new(python)
        .arg(script)
        .arg(input)
        .arg("--repeats")
        .arg(repeats.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "reference failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        ));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim().lines().last().unwrap_or(""))
        .map_err(|e| format!("bad reference output: {e}"))?;
    Ok(Reference {
        median_s: v["median_s"].as_f64().ok_or("no median_s")?,
        peak_rss_mb: v["peak_rss_mb"].as_f64().ok_or("no peak_rss_mb")?,
    })
}

fn main() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.join("../..");
    let python = std::env::var_os("GLUCOLENS_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-bench/bin/python"));
    let script = root.join("bench/reference/metrics.py");
    let cases = [
        (
            "cgm_adult001 (90 d, 25920 pts)",
            crate_dir.join("tests/golden/cgm_adult001.csv"),
        ),
        (
            "cgm_adult001_gaps (90 d, gaps)",
            crate_dir.join("tests/golden/cgm_adult001_gaps.csv"),
        ),
    ];
    let runs = 30;
    let ref_repeats = 3;
    println!(
        "{:<32} {:>14} {:>14} {:>14} {:>10} {:>12} {:>12}",
        "case", "ours compute", "ours parse+c.", "reference", "ratio", "ours RSS MB", "ref RSS MB"
    );
    for (name, path) in cases {
        let text = std::fs::read_to_string(&path).expect("bench input");
        let points = parse_cgm_csv(&text).expect("parse");
        let _ = metrics::compute(&points, chrono_tz::UTC).expect("compute"); // warm-up
        let compute_s = median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(metrics::compute(std::hint::black_box(&points), chrono_tz::UTC).unwrap());
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let full_s = median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    let p = parse_cgm_csv(std::hint::black_box(&text)).unwrap();
                    std::hint::black_box(metrics::compute(&p, chrono_tz::UTC).unwrap());
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let ours_rss = vm_hwm_mb().map_or("n/a".to_string(), |m| format!("{m:.1}"));
        let (ref_s, ratio, ref_rss) = if python.exists() {
            match reference(&python, &script, &path, ref_repeats) {
                Ok(r) => (
                    format!("{:.3} s", r.median_s),
                    format!("{:.0}x", r.median_s / full_s),
                    format!("{:.1}", r.peak_rss_mb),
                ),
                Err(e) => {
                    eprintln!("{name}: {e}");
                    ("n/a".into(), "n/a".into(), "n/a".into())
                }
            }
        } else {
            eprintln!(
                "reference python {} not found (set GLUCOLENS_BENCH_PYTHON); printing our timings only",
                python.display()
            );
            ("n/a".into(), "n/a".into(), "n/a".into())
        };
        println!(
            "{:<32} {:>11.3} ms {:>11.3} ms {:>14} {:>10} {:>12} {:>12}",
            name,
            compute_s * 1e3,
            full_s * 1e3,
            ref_s,
            ratio,
            ours_rss,
            ref_rss
        );
    }
    println!(
        "ratio = reference median / ours (parse + compute); reference = the iglu-python calls of \
         bench/reference/metrics.py, incl. read_csv; RSS = peak of each process"
    );
}
