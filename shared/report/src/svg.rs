//! The page as an SVG document (a string): one `<g id>` per group, text as real `<text>` in Helvetica.

use std::fmt::Write;

use crate::draw::{Anchor, Page, Shape, Stroke, Weight};

/// Escapes text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn points(points: &[(f64, f64)]) -> String {
    let mut out = String::with_capacity(points.len() * 12);
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{x},{y}");
    }
    out
}

fn stroke(stroke: &Stroke) -> String {
    let mut out = format!(r#" stroke="{}" stroke-width="{}""#, stroke.color.hex(), stroke.width);
    if let Some(dash) = stroke.dash {
        let _ = write!(out, r#" stroke-dasharray="{dash} {dash}""#);
    }
    out
}

/// Writes `page` as a standalone SVG document sized in points.
pub fn write(page: &Page) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif">
<title>{title}</title>
<rect id="background" x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>
"##,
        w = page.width,
        h = page.height,
        title = escape(&page.title)
    );
    for group in &page.groups {
        let _ = writeln!(out, r#"<g id="{}">"#, escape(&group.id));
        for shape in &group.shapes {
            shape_svg(&mut out, shape);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn shape_svg(out: &mut String, shape: &Shape) {
    let _ = match shape {
        Shape::Rect {
            x,
            y,
            width,
            height,
            fill,
            stroke: line,
        } => writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{}"{}/>"#,
            fill.map_or_else(|| "none".to_owned(), |c| c.hex()),
            line.as_ref().map(stroke).unwrap_or_default()
        ),
        Shape::Line {
            points: p,
            stroke: line,
        } => writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke-linejoin="round"{}/>"#,
            points(p),
            stroke(line)
        ),
        Shape::Polygon { points: p, fill } => {
            writeln!(out, r#"<polygon points="{}" fill="{}"/>"#, points(p), fill.hex())
        }
        Shape::Text {
            x,
            y,
            text,
            size,
            anchor,
            weight,
            color,
        } => writeln!(
            out,
            r#"<text x="{x}" y="{y}" font-size="{size}"{}{} fill="{}">{}</text>"#,
            match anchor {
                Anchor::Start => "",
                Anchor::Middle => r#" text-anchor="middle""#,
                Anchor::End => r#" text-anchor="end""#,
            },
            match weight {
                Weight::Regular => "",
                Weight::Bold => r#" font-weight="bold""#,
            },
            color.hex(),
            escape(text)
        ),
    };
}
