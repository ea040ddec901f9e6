//! Association rules: our implementation vs mlxtend 0.25 apriori + association_rules (bench/reference/rules.py).
//!
//! Cases: the 90-day golden item table (support 0.3, confidence ≥ 0.7) and a seeded synthetic 365-day × 20-item table
//! (support 0.1, confidence ≥ 0.8). Run with `cargo bench -p glucolens-analytics --bench rules_vs_reference`; the
//! Python comes from GLUCOLENS_BENCH_PYTHON (default `.venv-bench/bin/python` in the workspace root).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glucolens_analytics::rules::{run_rules, RuleMetric, RulesParams};
use glucolens_analytics::table::parse_items_csv;

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 365 days × 20 items; items depend on two latent day types so that itemsets of size 3–4 are frequent.
fn synthetic_items(path: &Path) {
    const T: usize = 365;
    const K: usize = 20;
    let mut rng = SplitMix(720_251_125);
    let base: Vec<f64> = (0..K).map(|_| 0.15 + 0.35 * rng.unit()).collect();
    let mut csv = String::from("date");
    for k in 0..K {
        csv.push_str(&format!(",item{k:02}"));
    }
    csv.push('\n');
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for d in 0..T {
        let good = rng.unit() < 0.45;
        let active = rng.unit() < 0.4;
        csv.push_str(&(start + chrono::Days::new(d as u64)).to_string());
        for (k, &b) in base.iter().enumerate() {
            let mut p = b;
            if good && k % 2 == 0 {
                p += 0.35;
            }
            if active && k % 3 == 0 {
                p += 0.3;
            }
            csv.push_str(if rng.unit() < p.min(0.95) { ",1" } else { ",0" });
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

/// Runs the reference script; returns (median_s, peak_rss_mb, n_itemsets, n_rules) or a reason.
fn reference(args: &[String]) -> Result<(f64, f64, u64, u64), String> {
    let script = workspace_root().join("bench/reference/rules.py");
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
        v["n_itemsets"].as_u64().unwrap_or(0),
        v["n_rules"].as_u64().unwrap_or(0),
    ))
}

fn main() {
    let dir = std::env::temp_dir().join(format!("glucolens-bench-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let synthetic = dir.join("items_synthetic_365x20.csv");
    synthetic_items(&synthetic);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/items_adult001_90d.csv");

    let cases: [(&str, &Path, f64, f64); 2] = [
        ("adult001 90d x4, support 0.3, conf 0.7", &golden, 0.3, 0.7),
        ("synthetic 365d x20, support 0.1, conf 0.8", &synthetic, 0.1, 0.8),
    ];
    let python_ok = python().exists();
    if !python_ok {
        println!(
            "reference python {} not found (set GLUCOLENS_BENCH_PYTHON); printing our timings only",
            python().display()
        );
    }
    println!(
        "{:<44} {:>10} {:>12} {:>9} {:>12} {:>12} {:>16}",
        "case", "ours median", "mlxtend", "ratio", "ours RSS MB", "ref RSS MB", "itemsets/rules"
    );
    for (name, path, min_support, min_threshold) in cases {
        let table = parse_items_csv(&std::fs::read_to_string(path).unwrap()).unwrap();
        let params = RulesParams {
            min_support,
            max_len: None,
            metric: RuleMetric::Confidence,
            min_threshold,
        };
        let result = run_rules(table.present.view(), &table.items, &params).unwrap();
        let runs = 50;
        let times: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                let r = run_rules(table.present.view(), &table.items, &params).unwrap();
                std::hint::black_box(&r);
                t0.elapsed().as_secs_f64()
            })
            .collect();
        let ours = median(times);
        let ours_rss = vm_hwm_mb();
        let (reference_s, reference_rss, ref_sets, ref_rules) = if python_ok {
            let args = vec![
                path.display().to_string(),
                "--min-support".into(),
                min_support.to_string(),
                "--min-threshold".into(),
                min_threshold.to_string(),
                "--repeats".into(),
                "5".into(),
            ];
            match reference(&args) {
                Ok(r) => r,
                Err(e) => {
                    println!("  reference failed: {e}");
                    (f64::NAN, f64::NAN, 0, 0)
                }
            }
        } else {
            (f64::NAN, f64::NAN, 0, 0)
        };
        println!(
            "{:<44} {:>8.3}ms {:>10.3}ms {:>8.0}x {:>12.1} {:>12.1} {:>7}/{:<4} ref {}/{}",
            name,
            ours * 1e3,
            reference_s * 1e3,
            reference_s / ours,
            ours_rss,
            reference_rss,
            result.itemsets.len(),
            result.rules.len(),
            ref_sets,
            ref_rules
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
