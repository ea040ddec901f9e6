//! Parses an export from stdin and prints record counts: used by bench/imports/apple_health_rss.sh to measure the
//! parser's peak memory on multi-gigabyte files. Usage: `stream_count <format> < file`.

use std::io::BufReader;

use glucolens_importers::{parse, Context, Format, Record};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "apple_health".into());
    let format = Format::parse(&name).ok_or("unknown format")?;
    let mut counts = [0u64; 4];
    let stdin = BufReader::with_capacity(256 * 1024, std::io::stdin().lock());
    let findings = parse(
        format,
        stdin,
        Context {
            time_zone: chrono_tz::UTC,
            now: chrono::Utc::now(),
        },
        &mut |record| {
            counts[match record {
                Record::Glucose(_) => 0,
                Record::Sleep(_) => 1,
                Record::Activity(_) => 2,
                Record::Meal(_) => 3,
            }] += 1;
            Ok(())
        },
    )?;
    println!(
        "rows {} glucose {} sleep {} activities {} meals {} skipped {}",
        findings.rows,
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        findings.skipped.total()
    );
    Ok(())
}
