//! The AGP-style report (issue 13): its model ([`model`]), the one page layout of it as drawing primitives
//! ([`layout`], [`draw`]) and two small writers of those primitives, SVG ([`svg`]) and PDF ([`pdf`], base-14
//! Helvetica, real text). Pure: no I/O, no statistics (the numbers arrive computed, from `glucolens-analytics` via
//! `glucolens_app::report`). Does not belong here: reading data, HTTP.

pub mod draw;
mod helvetica;
pub mod layout;
pub mod model;
pub mod pdf;
pub mod svg;

pub use model::{AgpReport, DailyProfile, DayTrace, GlucoseSummary, TimeInRanges, WeekEpisodes};

/// The report as an SVG document.
pub fn render_svg(report: &AgpReport) -> String {
    svg::write(&layout::layout(report))
}

/// The report as a one-page PDF document.
pub fn render_pdf(report: &AgpReport) -> Vec<u8> {
    pdf::write(&layout::layout(report))
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate};
    use glucolens_domain::GlucoseUnit;

    use super::*;

    /// A made-up report of `days` days with a smooth daily curve, sleep every night and exercise every other day.
    fn report(days: u32, unit: GlucoseUnit) -> AgpReport {
        let first_day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let curve =
            |minute: f64, day: u32| 140.0 + 60.0 * (minute / 1440.0 * std::f64::consts::TAU + f64::from(day)).sin();
        let slots: Vec<u32> = (1..=288).map(|s| s * 5).collect();
        let at = |offset: f64| {
            slots
                .iter()
                .map(|&m| curve(f64::from(m), 0) + offset)
                .collect::<Vec<f64>>()
        };
        AgpReport {
            name: Some("Ada <Lovelace> & Co".into()),
            first_day,
            last_day: first_day + Days::new(u64::from(days) - 1),
            time_zone: "Europe/Berlin".into(),
            unit,
            target_mg_dl: (70.0, 180.0),
            days_with_data: days,
            active_percent: 93.4,
            glucose: Some(GlucoseSummary {
                readings: 4000,
                mean_mg_dl: 151.37,
                gmi_percent: 6.93,
                cv_percent: 31.26,
                ranges: TimeInRanges {
                    very_low: 0.4,
                    low: 2.6,
                    in_range: 71.0,
                    high: 20.0,
                    very_high: 6.0,
                },
            }),
            profile: Some(DailyProfile {
                minute_of_day: slots.clone(),
                p5: at(-50.0),
                p25: at(-20.0),
                p50: at(0.0),
                p75: at(20.0),
                p95: {
                    let mut p95 = at(60.0);
                    p95[100] = f64::NAN;
                    p95
                },
            }),
            days: (0..days)
                .map(|d| DayTrace {
                    date: first_day + Days::new(u64::from(d)),
                    segments: vec![
                        (0..100)
                            .map(|i| (f64::from(i) * 5.0, curve(f64::from(i) * 5.0, d)))
                            .collect(),
                        (120..288)
                            .map(|i| (f64::from(i) * 5.0, curve(f64::from(i) * 5.0, d)))
                            .collect(),
                    ],
                    sleep: vec![(0.0, 420.0), (1380.0, 1440.0)],
                    exercise: if d % 2 == 0 { vec![(1050.0, 1110.0)] } else { vec![] },
                })
                .collect(),
            weeks: (0..days.div_ceil(7))
                .map(|w| WeekEpisodes {
                    first_day: first_day + Days::new(u64::from(w) * 7),
                    last_day: first_day + Days::new(u64::from(w) * 7 + 6),
                    very_low: 1,
                    low: 3,
                    extended_low: 0,
                    high: 9,
                    very_high: 2,
                })
                .collect(),
        }
    }

    /// Checks that `svg` is well-formed XML as far as this writer can break it: every tag closes in order, and no
    /// raw `&` or `<` is left in text or attributes.
    fn assert_well_formed(svg: &str) {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            assert!(!text.contains('>'), "stray `>` in {text:?}");
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "raw `&` in {text:?}"
                );
            }
            let end = rest[start..].find('>').expect("tag closes") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "`<` inside tag {tag:?}");
            if tag.starts_with('?') {
            } else if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "closing tag out of order");
            } else if !tag.ends_with('/') {
                open.push(tag.split_whitespace().next().unwrap());
            }
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "unclosed: {open:?}");
    }

    #[test]
    fn the_svg_is_well_formed_and_has_every_panel_and_band() {
        let svg = render_svg(&report(14, GlucoseUnit::MgDl));
        assert_well_formed(&svg);
        for id in [
            "header",
            "consensus",
            "metric-days",
            "metric-active",
            "metric-mean",
            "metric-gmi",
            "metric-cv",
            "tir-bar",
            "tir-very-high",
            "tir-high",
            "tir-in-range",
            "tir-low",
            "tir-very-low",
            "profile",
            "profile-target",
            "band-5-95",
            "band-25-75",
            "median",
            "daily",
            "day-2026-03-02",
            "day-2026-03-15",
            "episodes",
            "footer",
        ] {
            assert_eq!(svg.matches(&format!(r#"<g id="{id}">"#)).count(), 1, "group {id}");
        }
        assert!(svg.contains(crate::layout::TITLE));
        assert!(svg.contains("Ada &lt;Lovelace&gt; &amp; Co"));
        assert!(!svg.contains("not-enough-data"));
        // The gap in the 95th percentile splits the outer band in two.
        let outer = svg
            .split(r#"<g id="band-5-95">"#)
            .nth(1)
            .unwrap()
            .split("</g>")
            .next()
            .unwrap();
        assert_eq!(outer.matches("<polygon").count(), 2);
    }

    #[test]
    fn the_page_shows_the_numbers_in_the_display_unit() {
        let page = layout::layout(&report(14, GlucoseUnit::MmolL));
        let texts = |id: &str| -> Vec<String> {
            page.group(id)
                .unwrap()
                .shapes
                .iter()
                .filter_map(|s| match s {
                    draw::Shape::Text { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect()
        };
        assert!(texts("metric-mean").contains(&"8.4 mmol/L".to_owned()));
        assert!(texts("metric-gmi").contains(&"6.9 %".to_owned()));
        assert!(texts("metric-cv").contains(&"31.3 %".to_owned()));
        assert!(texts("tir-in-range").contains(&"71.0 %".to_owned()));
        assert!(texts("tir-in-range").contains(&"3.9–10.0 mmol/L".to_owned()));
        assert!(texts("header").iter().any(|t| t.contains("Glucose in mmol/L")));
    }

    #[test]
    fn short_data_gets_the_note_and_no_data_draws_no_numbers() {
        let mut short = report(3, GlucoseUnit::MgDl);
        short.active_percent = 40.0;
        let svg = render_svg(&short);
        assert_well_formed(&svg);
        assert!(svg.contains(r#"<g id="not-enough-data">"#));
        let note = short.not_enough_data().unwrap();
        assert!(
            note.contains("3 days with CGM data") && note.contains("40.0 %"),
            "{note}"
        );
        short.glucose = None;
        short.profile = None;
        short.days_with_data = 0;
        let svg = render_svg(&short);
        assert_well_formed(&svg);
        assert!(svg.contains("Too few readings for a profile"));
        assert!(!svg.contains("band-5-95"));
    }

    #[test]
    fn the_pdf_has_one_page_and_the_numbers_as_text() {
        let pdf = render_pdf(&report(14, GlucoseUnit::MgDl));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-"));
        assert!(text.trim_end().ends_with("%%EOF"));
        assert_eq!(
            text.lines().filter(|l| l.trim() == "/Type /Page").count(),
            1,
            "one page object"
        );
        assert!(text.contains("/Count 1"));
        for shown in [
            "(151 mg/dL) Tj",
            "(6.9 %) Tj",
            "(31.3 %) Tj",
            "(71.0 %) Tj",
            "(93.4 %) Tj",
            "(14 of 14) Tj",
        ] {
            assert!(text.contains(shown), "{shown}");
        }
        assert!(text.contains("(Ambulatory glucose profile (AGP)-style report) Tj"));
        assert!(text.contains("/BaseFont /Helvetica-Bold"));
    }

    #[test]
    fn ninety_days_fit_the_page() {
        let page = layout::layout(&report(90, GlucoseUnit::MgDl));
        assert_eq!(page.groups.iter().filter(|g| g.id.starts_with("day-")).count(), 28);
        let inside = |x: f64, y: f64| (0.0..=page.width).contains(&x) && (0.0..=page.height).contains(&y);
        for shape in page.groups.iter().flat_map(|g| &g.shapes) {
            match shape {
                draw::Shape::Rect {
                    x, y, width, height, ..
                } => {
                    assert!(inside(*x, *y) && inside(x + width, y + height), "{shape:?}")
                }
                draw::Shape::Line { points, .. } | draw::Shape::Polygon { points, .. } => {
                    assert!(points.iter().all(|&(x, y)| inside(x, y)), "{shape:?}")
                }
                draw::Shape::Text { x, y, .. } => assert!(inside(*x, *y), "{shape:?}"),
            }
        }
        render_pdf(&report(90, GlucoseUnit::MgDl));
    }
}
