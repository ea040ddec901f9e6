//! The one page layout of the report (our own, not the IDC AGP page): a header, the consensus numbers with their
//! targets and a stacked time-in-ranges bar, the 24-hour profile (median, 25–75 and 5–95 % bands over the target
//! band), one small panel per day (trace, target range, sleep shaded, exercise marked), and the episode counts per
//! week. It produces drawing primitives only; `svg` and `pdf` write them.

use chrono::NaiveDate;
use glucolens_domain::GlucoseUnit;

use crate::draw::{Anchor, Color, Group, Page, Shape, Stroke, Weight};
use crate::helvetica::text_width;
use crate::model::{percent, AgpReport, DailyProfile, DayTrace, RECOMMENDED_ACTIVE_PERCENT, RECOMMENDED_DAYS};

pub const TITLE: &str = "Ambulatory glucose profile (AGP)-style report";

/// A4 portrait, in points.
const PAGE_WIDTH: f64 = 595.0;
const PAGE_HEIGHT: f64 = 842.0;
const MARGIN: f64 = 36.0;
const LEFT: f64 = MARGIN;
const RIGHT: f64 = PAGE_WIDTH - MARGIN;
const WIDTH: f64 = RIGHT - LEFT;
/// Highest glucose the charts show (mg/dL); higher values are drawn at the top edge.
const CHART_MAX_MG_DL: f64 = 350.0;
/// At most this many daily panels fit the page: the last four weeks of a longer period.
const MAX_DAY_PANELS: usize = 28;
const PANELS_PER_ROW: usize = 7;
/// The consensus cut points (mg/dL), labelled on the chart axes.
const AXIS_TICKS_MG_DL: [f64; 5] = [54.0, 70.0, 180.0, 250.0, CHART_MAX_MG_DL];

const INK: Color = Color(31, 41, 51);
const MUTED: Color = Color(97, 110, 124);
const GRID: Color = Color(217, 222, 227);
const FRAME: Color = Color(154, 165, 177);
const TARGET_BAND: Color = Color(226, 243, 224);
const TARGET_LINE: Color = Color(76, 154, 82);
const VERY_LOW: Color = Color(163, 22, 26);
const LOW: Color = Color(229, 72, 77);
const IN_RANGE: Color = Color(76, 154, 82);
const HIGH: Color = Color(245, 176, 65);
const VERY_HIGH: Color = Color(214, 110, 20);
const OUTER_BAND: Color = Color(205, 220, 240);
const INNER_BAND: Color = Color(126, 164, 214);
const MEDIAN: Color = Color(24, 68, 122);
const SLEEP: Color = Color(226, 222, 242);
const EXERCISE: Color = Color(232, 128, 0);
const NOTE_FILL: Color = Color(255, 243, 205);
const NOTE_LINE: Color = Color(214, 163, 40);

/// The page of `report`.
pub fn layout(report: &AgpReport) -> Page {
    let mut page = Canvas::default();
    let mut y = header(&mut page, report);
    if let Some(note) = report.not_enough_data() {
        y = not_enough_data(&mut page, &note, y);
    }
    y = consensus(&mut page, report, y + 6.0);
    y = time_in_ranges(&mut page, report, y);
    y = profile(&mut page, report, y + 14.0);
    let footer_top = PAGE_HEIGHT - MARGIN + 10.0;
    // The daily panels take the room left above the episode table, up to a comfortable height per row.
    y = daily(&mut page, report, y + 14.0, footer_top - 18.0 - EPISODES_HEIGHT - 14.0);
    episodes(&mut page, report, y + 14.0);
    footer(&mut page, report, footer_top);
    Page {
        width: PAGE_WIDTH,
        height: PAGE_HEIGHT,
        title: TITLE.to_owned(),
        groups: page.groups,
    }
}

/// Builds the groups in drawing order.
#[derive(Default)]
struct Canvas {
    groups: Vec<Group>,
}

impl Canvas {
    /// Starts the group `id`; later shapes go into it.
    fn group(&mut self, id: impl Into<String>) -> &mut Self {
        self.groups.push(Group {
            id: id.into(),
            shapes: Vec::new(),
        });
        self
    }

    fn push(&mut self, shape: Shape) -> &mut Self {
        self.groups
            .last_mut()
            .expect("a group is started first")
            .shapes
            .push(shape);
        self
    }

    fn text(&mut self, (x, y): (f64, f64), text: impl Into<String>, size: f64, style: (Anchor, Weight, Color)) {
        let (anchor, weight, color) = style;
        self.push(Shape::Text {
            x,
            y,
            text: text.into(),
            size,
            anchor,
            weight,
            color,
        });
    }

    fn rect(&mut self, (x, y, width, height): (f64, f64, f64, f64), fill: Option<Color>, stroke: Option<Stroke>) {
        self.push(Shape::Rect {
            x,
            y,
            width,
            height,
            fill,
            stroke,
        });
    }

    fn line(&mut self, points: Vec<(f64, f64)>, stroke: Stroke) {
        if points.len() >= 2 {
            self.push(Shape::Line { points, stroke });
        }
    }

    /// A section's heading with a rule under it; returns the y below it.
    fn heading(&mut self, y: f64, text: &str) -> f64 {
        self.text((LEFT, y + 11.0), text, 11.0, (Anchor::Start, Weight::Bold, INK));
        self.line(vec![(LEFT, y + 15.0), (RIGHT, y + 15.0)], solid(GRID, 0.8));
        y + 15.0
    }
}

fn solid(color: Color, width: f64) -> Stroke {
    Stroke {
        color,
        width,
        dash: None,
    }
}

fn dashed(color: Color, width: f64) -> Stroke {
    Stroke {
        color,
        width,
        dash: Some(2.5),
    }
}

const LEFT_TEXT: (Anchor, Weight, Color) = (Anchor::Start, Weight::Regular, INK);
const MUTED_TEXT: (Anchor, Weight, Color) = (Anchor::Start, Weight::Regular, MUTED);

fn date_text(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

fn header(page: &mut Canvas, report: &AgpReport) -> f64 {
    page.group("header");
    page.text((LEFT, MARGIN + 14.0), TITLE, 17.0, (Anchor::Start, Weight::Bold, INK));
    let days = report.period_days();
    let period = format!(
        "{} – {} ({days} day{})",
        date_text(report.first_day),
        date_text(report.last_day),
        if days == 1 { "" } else { "s" }
    );
    let mut facts = Vec::new();
    if let Some(name) = &report.name {
        facts.push(name.clone());
    }
    facts.extend([
        period,
        format!("Time zone {}", report.time_zone),
        format!("Glucose in {}", report.unit.as_str()),
    ]);
    page.text((LEFT, MARGIN + 32.0), facts.join("   ·   "), 9.5, LEFT_TEXT);
    page.line(vec![(LEFT, MARGIN + 40.0), (RIGHT, MARGIN + 40.0)], solid(INK, 1.2));
    MARGIN + 40.0
}

/// `text` broken into lines of at most `width` points at `size`.
fn wrap(text: &str, size: f64, weight: Weight, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, weight) > width {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn not_enough_data(page: &mut Canvas, note: &str, y: f64) -> f64 {
    const SIZE: f64 = 9.0;
    let lines = wrap(note, SIZE, Weight::Bold, WIDTH - 16.0);
    let height = 8.0 + 12.0 * lines.len() as f64;
    page.group("not-enough-data");
    page.rect(
        (LEFT, y + 8.0, WIDTH, height),
        Some(NOTE_FILL),
        Some(solid(NOTE_LINE, 0.8)),
    );
    for (i, line) in lines.into_iter().enumerate() {
        page.text(
            (LEFT + 8.0, y + 20.0 + 12.0 * i as f64),
            line,
            SIZE,
            (Anchor::Start, Weight::Bold, INK),
        );
    }
    y + 8.0 + height
}

/// Height of the consensus rows; the time-in-ranges bar beside them is as tall.
const CONSENSUS_ROW: f64 = 19.0;
const CONSENSUS_ROWS: usize = 5;
/// Where the time-in-ranges column starts.
const TIR_LEFT: f64 = 322.0;

/// The consensus numbers and their targets, one group per row; returns the top of the section (the bar beside
/// them starts there too).
fn consensus(page: &mut Canvas, report: &AgpReport, y: f64) -> f64 {
    page.group("consensus");
    let top = page.heading(y, "Glucose statistics and targets");
    let unit = report.unit.as_str();
    let glucose = report.glucose.as_ref();
    let unknown = || "–".to_owned();
    let rows: [(&str, &str, String, String); CONSENSUS_ROWS] = [
        (
            "metric-days",
            "Days with CGM data",
            format!("{} of {}", report.days_with_data, report.period_days()),
            format!("{RECOMMENDED_DAYS} days or more"),
        ),
        (
            "metric-active",
            "Time CGM active",
            percent(report.active_percent),
            format!("{RECOMMENDED_ACTIVE_PERCENT:.0} % or more"),
        ),
        (
            "metric-mean",
            "Mean glucose",
            glucose.map_or_else(unknown, |g| format!("{} {unit}", report.glucose_text(g.mean_mg_dl))),
            String::new(),
        ),
        (
            "metric-gmi",
            "Glucose management indicator (GMI)",
            glucose.map_or_else(unknown, |g| percent(g.gmi_percent)),
            String::new(),
        ),
        (
            "metric-cv",
            "Glucose variability (CV)",
            glucose.map_or_else(unknown, |g| percent(g.cv_percent)),
            "36 % or less".to_owned(),
        ),
    ];
    for (i, (id, label, value, target)) in rows.into_iter().enumerate() {
        let baseline = top + 6.0 + CONSENSUS_ROW * (i as f64 + 0.5) + 4.0;
        page.group(id);
        if i % 2 == 0 {
            page.rect(
                (
                    LEFT,
                    top + 6.0 + CONSENSUS_ROW * i as f64,
                    TIR_LEFT - LEFT - 14.0,
                    CONSENSUS_ROW,
                ),
                Some(Color(246, 248, 250)),
                None,
            );
        }
        page.text((LEFT + 4.0, baseline), label, 9.0, LEFT_TEXT);
        page.text((LEFT + 194.0, baseline), value, 10.0, (Anchor::End, Weight::Bold, INK));
        if !target.is_empty() {
            page.text((LEFT + 200.0, baseline), format!("goal {target}"), 7.5, MUTED_TEXT);
        }
    }
    top
}

/// The five consensus ranges, from very high down: id, name, range in mg/dL and mmol/L, colour, goal.
const RANGES: [(&str, &str, &str, &str, Color, &str); 5] = [
    (
        "very-high",
        "Very high",
        "> 250 mg/dL",
        "> 13.9 mmol/L",
        VERY_HIGH,
        "< 5 %",
    ),
    ("high", "High", "181–250 mg/dL", "10.1–13.9 mmol/L", HIGH, ""),
    (
        "in-range",
        "In range",
        "70–180 mg/dL",
        "3.9–10.0 mmol/L",
        IN_RANGE,
        "> 70 %",
    ),
    ("low", "Low", "54–69 mg/dL", "3.0–3.8 mmol/L", LOW, "< 4 %"),
    ("very-low", "Very low", "< 54 mg/dL", "< 3.0 mmol/L", VERY_LOW, "< 1 %"),
];

/// The stacked time-in-ranges bar and its labels, beside the consensus rows; returns the y below both.
fn time_in_ranges(page: &mut Canvas, report: &AgpReport, top: f64) -> f64 {
    let (bar_top, height, bar_x, bar_width) = (top + 6.0, CONSENSUS_ROW * CONSENSUS_ROWS as f64, TIR_LEFT, 26.0);
    page.group("tir-bar");
    let shares = report.glucose.as_ref().map(|g| {
        let r = g.ranges;
        [r.very_high, r.high, r.in_range, r.low, r.very_low]
    });
    match shares {
        Some(shares) => {
            let mut y = bar_top;
            for (share, range) in shares.iter().zip(RANGES) {
                // A range with any readings stays visible.
                let h = if *share > 0.0 {
                    (height * share / 100.0).max(1.0)
                } else {
                    0.0
                };
                if h > 0.0 {
                    page.rect((bar_x, y, bar_width, h), Some(range.4), None);
                }
                y += h;
            }
        }
        None => page.rect((bar_x, bar_top, bar_width, height), Some(GRID), None),
    }
    page.rect((bar_x, bar_top, bar_width, height), None, Some(solid(FRAME, 0.6)));
    for (i, (id, name, mg_dl, mmol_l, color, goal)) in RANGES.into_iter().enumerate() {
        page.group(format!("tir-{id}"));
        let baseline = bar_top + CONSENSUS_ROW * (i as f64 + 0.5) + 3.5;
        let x = bar_x + bar_width + 12.0;
        page.rect((x, baseline - 7.5, 8.0, 8.0), Some(color), None);
        page.text((x + 13.0, baseline), name, 9.0, (Anchor::Start, Weight::Bold, INK));
        let range = match report.unit {
            GlucoseUnit::MgDl => mg_dl,
            GlucoseUnit::MmolL => mmol_l,
        };
        page.text((x + 62.0, baseline), range, 7.5, MUTED_TEXT);
        let value = shares.map_or_else(|| "–".to_owned(), |s| percent(s[i]));
        page.text((RIGHT - 44.0, baseline), value, 10.0, (Anchor::End, Weight::Bold, INK));
        if !goal.is_empty() {
            page.text((RIGHT - 38.0, baseline), format!("goal {goal}"), 7.5, MUTED_TEXT);
        }
    }
    bar_top + height
}

/// Maps glucose and time of day onto a chart's box.
#[derive(Clone, Copy)]
struct Chart {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

impl Chart {
    fn x_of(&self, minute: f64) -> f64 {
        self.x + self.width * (minute / 1440.0).clamp(0.0, 1.0)
    }

    fn y_of(&self, mg_dl: f64) -> f64 {
        self.y + self.height * (1.0 - (mg_dl / CHART_MAX_MG_DL).clamp(0.0, 1.0))
    }

    fn point(&self, minute: f64, mg_dl: f64) -> (f64, f64) {
        (round(self.x_of(minute)), round(self.y_of(mg_dl)))
    }

    /// The target band: a light fill (drawn first, under everything).
    fn target_band(&self, page: &mut Canvas, (low, high): (f64, f64)) {
        let (top, bottom) = (self.y_of(high), self.y_of(low));
        page.rect((self.x, top, self.width, bottom - top), Some(TARGET_BAND), None);
    }

    /// The target range's edges (drawn last, over the data).
    fn target_lines(&self, page: &mut Canvas, (low, high): (f64, f64), width: f64) {
        for mg_dl in [low, high] {
            let y = round(self.y_of(mg_dl));
            page.line(vec![(self.x, y), (self.x + self.width, y)], dashed(TARGET_LINE, width));
        }
    }
}

/// Two decimals are far below a printer's dot and keep the files small.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn profile(page: &mut Canvas, report: &AgpReport, y: f64) -> f64 {
    page.group("profile");
    let top = page.heading(y, "24-hour glucose profile");
    legend(
        page,
        top - 5.0,
        &[
            ("5–95 %", OUTER_BAND),
            ("25–75 %", INNER_BAND),
            ("Median", MEDIAN),
            ("Target range", TARGET_BAND),
        ],
    );
    let chart = Chart {
        x: LEFT + 34.0,
        y: top + 10.0,
        width: WIDTH - 34.0,
        height: 150.0,
    };
    page.group("profile-target");
    chart.target_band(page, report.target_mg_dl);
    page.group("profile-axes");
    axes(page, &chart, report.unit);
    match &report.profile {
        Some(profile) => percentile_bands(page, &chart, profile),
        None => {
            page.group("profile-empty");
            page.text(
                (chart.x + chart.width / 2.0, chart.y + chart.height / 2.0),
                "Too few readings for a profile",
                10.0,
                (Anchor::Middle, Weight::Regular, MUTED),
            );
        }
    }
    page.group("profile-target-lines");
    chart.target_lines(page, report.target_mg_dl, 0.9);
    page.rect(
        (chart.x, chart.y, chart.width, chart.height),
        None,
        Some(solid(FRAME, 0.6)),
    );
    chart.y + chart.height + 12.0
}

/// Small swatches with names, right-aligned on the heading's line.
fn legend(page: &mut Canvas, baseline: f64, items: &[(&str, Color)]) {
    let widths: Vec<f64> = items
        .iter()
        .map(|(name, _)| 12.0 + text_width(name, 8.0, Weight::Regular) + 12.0)
        .collect();
    let mut x = RIGHT - widths.iter().sum::<f64>() + 12.0;
    for ((name, color), width) in items.iter().zip(widths) {
        page.rect((x, baseline - 7.0, 9.0, 8.0), Some(*color), None);
        page.text((x + 12.0, baseline), *name, 8.0, MUTED_TEXT);
        x += width;
    }
}

/// Glucose gridlines and labels at the consensus cut points, hours every three.
fn axes(page: &mut Canvas, chart: &Chart, unit: GlucoseUnit) {
    for mg_dl in AXIS_TICKS_MG_DL {
        let y = round(chart.y_of(mg_dl));
        page.line(vec![(chart.x, y), (chart.x + chart.width, y)], solid(GRID, 0.5));
        // 54 and 70 are close: 54's label sits below its line, the others on theirs.
        let baseline = if mg_dl < 60.0 { y + 7.5 } else { y + 2.5 };
        page.text(
            (chart.x - 4.0, baseline),
            crate::model::glucose_text(unit, mg_dl),
            7.5,
            (Anchor::End, Weight::Regular, MUTED),
        );
    }
    for hour in (0..=24).step_by(3) {
        let x = round(chart.x_of(f64::from(hour) * 60.0));
        if hour > 0 && hour < 24 {
            page.line(vec![(x, chart.y), (x, chart.y + chart.height)], solid(GRID, 0.5));
        }
        page.text(
            (x, chart.y + chart.height + 10.0),
            format!("{hour:02}:00"),
            8.0,
            (Anchor::Middle, Weight::Regular, MUTED),
        );
    }
}

/// Runs of consecutive slots where `values` are all finite, as index ranges.
fn finite_runs(values: &[&[f64]]) -> Vec<std::ops::Range<usize>> {
    let len = values.iter().map(|v| v.len()).min().unwrap_or(0);
    let finite = |i: usize| values.iter().all(|v| v[i].is_finite());
    let mut runs = Vec::new();
    let mut start = None;
    for i in 0..=len {
        match (start, i < len && finite(i)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    runs
}

fn percentile_bands(page: &mut Canvas, chart: &Chart, profile: &DailyProfile) {
    let minutes: Vec<f64> = profile.minute_of_day.iter().map(|&m| f64::from(m)).collect();
    let band = |page: &mut Canvas, id: &str, low: &[f64], high: &[f64], fill: Color| {
        page.group(id);
        for run in finite_runs(&[low, high]) {
            let upper = run.clone().map(|i| chart.point(minutes[i], high[i]));
            let lower = run.rev().map(|i| chart.point(minutes[i], low[i]));
            page.push(Shape::Polygon {
                points: upper.chain(lower).collect(),
                fill,
            });
        }
    };
    band(page, "band-5-95", &profile.p5, &profile.p95, OUTER_BAND);
    band(page, "band-25-75", &profile.p25, &profile.p75, INNER_BAND);
    page.group("median");
    for run in finite_runs(&[&profile.p50]) {
        page.line(
            run.map(|i| chart.point(minutes[i], profile.p50[i])).collect(),
            solid(MEDIAN, 1.6),
        );
    }
}

/// The daily panels between `y` and at most `bottom`; returns the y below them.
fn daily(page: &mut Canvas, report: &AgpReport, y: f64, bottom: f64) -> f64 {
    let shown = &report.days[report.days.len().saturating_sub(MAX_DAY_PANELS)..];
    page.group("daily");
    let heading = if shown.len() < report.days.len() {
        format!("Daily profiles (last {} of {} days)", shown.len(), report.days.len())
    } else {
        "Daily profiles".to_owned()
    };
    let top = page.heading(y, &heading);
    legend(
        page,
        top - 5.0,
        &[("Sleep", SLEEP), ("Exercise", EXERCISE), ("Target range", TARGET_BAND)],
    );
    let rows = shown.len().div_ceil(PANELS_PER_ROW).max(1);
    let row_height = ((bottom - top - 4.0) / rows as f64).min(125.0);
    let gap = 5.0;
    let panel_width = (WIDTH - gap * (PANELS_PER_ROW - 1) as f64) / PANELS_PER_ROW as f64;
    for (i, day) in shown.iter().enumerate() {
        let (row, column) = (i / PANELS_PER_ROW, i % PANELS_PER_ROW);
        let x = LEFT + column as f64 * (panel_width + gap);
        let y = top + 4.0 + row as f64 * row_height;
        day_panel(page, report, day, (x, y, panel_width, row_height - 4.0));
    }
    top + 4.0 + rows as f64 * row_height
}

fn day_panel(page: &mut Canvas, report: &AgpReport, day: &DayTrace, (x, y, width, height): (f64, f64, f64, f64)) {
    page.group(format!("day-{}", day.date));
    page.text(
        (x + 1.0, y + 8.0),
        day.date.format("%a %-d %b").to_string(),
        7.0,
        (Anchor::Start, Weight::Bold, INK),
    );
    let chart = Chart {
        x,
        y: y + 11.0,
        width,
        height: height - 11.0,
    };
    chart.target_band(page, report.target_mg_dl);
    for &(from, to) in &day.sleep {
        page.rect(
            (
                round(chart.x_of(from)),
                chart.y,
                round(chart.x_of(to) - chart.x_of(from)),
                chart.height,
            ),
            Some(SLEEP),
            None,
        );
    }
    chart.target_lines(page, report.target_mg_dl, 0.5);
    for &(from, to) in &day.exercise {
        page.rect(
            (
                round(chart.x_of(from)),
                chart.y + chart.height - 3.0,
                round((chart.x_of(to) - chart.x_of(from)).max(1.0)),
                3.0,
            ),
            Some(EXERCISE),
            None,
        );
    }
    for segment in &day.segments {
        page.line(
            segment
                .iter()
                .map(|&(minute, mg_dl)| chart.point(minute, mg_dl))
                .collect(),
            solid(MEDIAN, 0.7),
        );
    }
    page.rect(
        (chart.x, chart.y, chart.width, chart.height),
        None,
        Some(solid(FRAME, 0.5)),
    );
}

/// The episode rows: id, name, threshold in mg/dL and mmol/L, and the count.
type EpisodeRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(&crate::model::WeekEpisodes) -> usize,
);
const EPISODE_ROWS: [EpisodeRow; 5] = [
    ("very-low", "Very low, level 2", "< 54 mg/dL", "< 3.0 mmol/L", |w| {
        w.very_low
    }),
    (
        "low",
        "Low, level 1 (incl. level 2)",
        "< 70 mg/dL",
        "< 3.9 mmol/L",
        |w| w.low,
    ),
    (
        "extended-low",
        "Extended low, over 2 hours",
        "< 70 mg/dL",
        "< 3.9 mmol/L",
        |w| w.extended_low,
    ),
    (
        "high",
        "High, level 1 (incl. level 2)",
        "> 180 mg/dL",
        "> 10.0 mmol/L",
        |w| w.high,
    ),
    ("very-high", "Very high, level 2", "> 250 mg/dL", "> 13.9 mmol/L", |w| {
        w.very_high
    }),
];
const EPISODE_ROW: f64 = 12.0;

const EPISODES_HEIGHT: f64 = 15.0 + 6.0 + EPISODE_ROW * (EPISODE_ROWS.len() + 1) as f64;

fn episodes(page: &mut Canvas, report: &AgpReport, y: f64) {
    page.group("episodes");
    let top = page.heading(y, "Episodes per week (at least 15 minutes)");
    let label_width = 200.0;
    let weeks = report.weeks.len().max(1);
    let column = ((WIDTH - label_width) / weeks as f64).min(64.0);
    let header = top + 4.0 + EPISODE_ROW - 3.0;
    for (i, week) in report.weeks.iter().enumerate() {
        let x = LEFT + label_width + column * (i as f64 + 0.5);
        let text = if column >= 50.0 {
            format!("{}–{}", week.first_day.format("%-d %b"), week.last_day.format("%-d %b"))
        } else {
            week.first_day.format("%-d %b").to_string()
        };
        page.text((x, header), text, 7.0, (Anchor::Middle, Weight::Bold, MUTED));
    }
    for (r, (_, name, mg_dl, mmol_l, count)) in EPISODE_ROWS.into_iter().enumerate() {
        let row_top = top + 4.0 + EPISODE_ROW * (r + 1) as f64;
        let baseline = row_top + EPISODE_ROW - 3.0;
        if r % 2 == 0 {
            page.rect((LEFT, row_top, WIDTH, EPISODE_ROW), Some(Color(246, 248, 250)), None);
        }
        page.text((LEFT + 4.0, baseline), name, 8.0, LEFT_TEXT);
        let threshold = match report.unit {
            GlucoseUnit::MgDl => mg_dl,
            GlucoseUnit::MmolL => mmol_l,
        };
        page.text((LEFT + 128.0, baseline), threshold, 7.5, MUTED_TEXT);
        for (i, week) in report.weeks.iter().enumerate() {
            let x = LEFT + label_width + column * (i as f64 + 0.5);
            page.text(
                (x, baseline),
                count(week).to_string(),
                8.5,
                (Anchor::Middle, Weight::Bold, INK),
            );
        }
    }
}

fn footer(page: &mut Canvas, report: &AgpReport, y: f64) {
    page.group("footer");
    page.line(vec![(LEFT, y - 9.0), (RIGHT, y - 9.0)], solid(GRID, 0.6));
    page.text(
        (LEFT, y),
        format!(
            "GlucoLens · consensus metrics (Battelino et al. 2019) over {} to {} · percentiles by time of day across days",
            date_text(report.first_day),
            date_text(report.last_day)
        ),
        7.0,
        MUTED_TEXT,
    );
    page.text((RIGHT, y), "Page 1 of 1", 7.0, (Anchor::End, Weight::Regular, MUTED));
}
