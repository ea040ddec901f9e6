//! PCMCI: our implementation vs tigramite 5.2 (bench/reference/pcmci.py), same input files.
//!
//! Cases: the 90-day golden table (tau_max 3, pc_alpha None) and a seeded synthetic 365-day × 10-variable table with
//! planted lagged and contemporaneous links (tau_max 3, pc_alpha 0.05 and None). Run with
//! `cargo bench -p glucolens-analytics --bench pcmci_vs_reference`; the Python comes from GLUCOLENS_BENCH_PYTHON
//! (default `.venv-bench/bin/python` in the workspace root).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glucolens_analytics::pcmci::{run_pcmci, PcmciParams};
use glucolens_analytics::table::parse_daily_csv;

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn normal(&mut self) -> f64 {
        let u = ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let v = ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// 365 days × 10 variables with planted links (cause, lag, effect, coefficient), written as a daily CSV.
fn synthetic_daily(path: &Path) {
    const T: usize = 365;
    const N: usize = 10;
    let links: [(usize, usize, usize, f64); 9] = [
        (0, 1, 0, 0.5),
        (0, 1, 1, 0.5),
        (1, 2, 2, -0.4),
        (2, 0, 3, 0.5),
        (3, 1, 3, 0.3),
        (4, 3, 5, 0.4),
        (6, 1, 6, 0.6),
        (6, 0, 7, -0.5),
        (8, 2, 9, 0.45),
    ];
    let mut rng = SplitMix(20251125);
    let burn = 50;
    let mut x = vec![[0.0f64; N]; T + burn];
    for t in 0..T + burn {
        for v in x[t].iter_mut() {
            *v = rng.normal();
        }
        // Variables are generated in index order, so lag-0 causes (lower index) are already set.
        for k in 0..N {
            for &(cause, lag, effect, coef) in &links {
                if effect == k && t >= lag {
                    x[t][k] += coef * x[t - lag][cause];
                }
            }
        }
    }
    let mut csv = String::from("date");
    for k in 0..N {
        csv.push_str(&format!(",v{k}"));
    }
    csv.push('\n');
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for (d, row) in x[burn..].iter().enumerate() {
        csv.push_str(&(start + chrono::Days::new(d as u64)).to_string());
        for (k, v) in row.iter().enumerate() {
            // Scale like daily aggregates (minutes, grams, mg/dL) and keep full precision.
            csv.push_str(&format!(",{:?}", 100.0 + 10.0 * (k as f64 + 1.0) * v));
        }
        csv.push('\n');
    }
    std::fs::write(path, csv).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn vm_hwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn python() -> PathBuf {
    std::env::var_os("GLUCOLENS_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv-bench/bin/python"))
}

/// Runs the reference script; returns (median_s, peak_rss_mb) or a reason.
fn reference(args: &[String]) -> Result<(f64, f64), String> {
    let script = workspace_root().join("bench/reference/pcmci.py");
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python().display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
            .to_string());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).map_err(|e| e.to_string())?;
    Ok((
        v["median_s"].as_f64().unwrap_or(f64::NAN),
        v["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
    ))
}

fn main() {
    let dir = std::env::temp_dir().join(format!("glucolens-bench-pcmci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let synthetic = dir.join("daily_synthetic_365x10.csv");
    synthetic_daily(&synthetic);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/daily_adult001_90d.csv");

    let cases: [(&str, &Path, Option<f64>); 3] = [
        ("adult001 90d x5, tau3, pc_alpha None", &golden, None),
        ("synthetic 365d x10, tau3, pc_alpha 0.05", &synthetic, Some(0.05)),
        ("synthetic 365d x10, tau3, pc_alpha None", &synthetic, None),
    ];
    let python_ok = python().exists();
    if !python_ok {
        println!(
            "reference python {} not found (set GLUCOLENS_BENCH_PYTHON); printing our timings only",
            python().display()
        );
    }
    println!(
        "{:<42} {:>12} {:>14} {:>9} {:>12} {:>12}",
        "case", "ours median", "tigramite", "ratio", "ours RSS MB", "ref RSS MB"
    );
    for (name, path, pc_alpha) in cases {
        let table = parse_daily_csv(&std::fs::read_to_string(path).unwrap()).unwrap();
        let params = PcmciParams {
            tau_max: 3,
            pc_alpha,
            ..PcmciParams::default()
        };
        let data = table.values.view();
        let _ = run_pcmci(data, &params).unwrap(); // warm-up (rayon pool)
        let runs = 30;
        let times: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                let r = run_pcmci(data, &params).unwrap();
                std::hint::black_box(&r);
                t0.elapsed().as_secs_f64()
            })
            .collect();
        let ours = median(times);
        let ours_rss = vm_hwm_mb();
        let (reference_s, reference_rss) = if python_ok {
            let args = vec![
                path.display().to_string(),
                "--tau-max".into(),
                "3".into(),
                "--pc-alpha".into(),
                pc_alpha.map_or("none".to_string(), |a| a.to_string()),
                "--repeats".into(),
                "3".into(),
            ];
            match reference(&args) {
                Ok(r) => r,
                Err(e) => {
                    println!("  reference failed: {e}");
                    (f64::NAN, f64::NAN)
                }
            }
        } else {
            (f64::NAN, f64::NAN)
        };
        println!(
            "{:<42} {:>10.3}ms {:>12.3}ms {:>8.0}x {:>12.1} {:>12.1}",
            name,
            ours * 1e3,
            reference_s * 1e3,
            reference_s / ours,
            ours_rss,
            reference_rss
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
