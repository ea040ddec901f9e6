//! The page as a one-page PDF: vector shapes and real, selectable text in the base-14 Helvetica (nothing
//! embedded). The content stream is left uncompressed, so the page's text can be found in the file as written.

use pdf_writer::types::LineJoinStyle;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::draw::{Anchor, Page, Shape, Stroke, Weight};
use crate::helvetica::{text_width, win_ansi};

const CATALOG: Ref = Ref::new(1);
const PAGES: Ref = Ref::new(2);
const PAGE: Ref = Ref::new(3);
const CONTENT: Ref = Ref::new(4);
const REGULAR: Ref = Ref::new(5);
const BOLD: Ref = Ref::new(6);
const INFO: Ref = Ref::new(7);

/// Writes `page` as a PDF document.
pub fn write(page: &Page) -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.catalog(CATALOG).pages(PAGES);
    pdf.pages(PAGES).kids([PAGE]).count(1);
    let mut page_writer = pdf.page(PAGE);
    page_writer
        .media_box(Rect::new(0.0, 0.0, page.width as f32, page.height as f32))
        .parent(PAGES)
        .contents(CONTENT);
    page_writer
        .resources()
        .fonts()
        .pair(Name(b"F1"), REGULAR)
        .pair(Name(b"F2"), BOLD);
    page_writer.finish();
    for (id, name) in [(REGULAR, &b"Helvetica"[..]), (BOLD, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(INFO)
        .title(TextStr(&page.title))
        .creator(TextStr("GlucoLens"));
    pdf.stream(CONTENT, &content(page));
    pdf.finish()
}

fn content(page: &Page) -> Vec<u8> {
    let mut c = Content::new();
    c.set_line_join(LineJoinStyle::RoundJoin);
    // PDF's y axis points up from the bottom edge.
    let y = |v: f64| (page.height - v) as f32;
    for shape in page.groups.iter().flat_map(|g| &g.shapes) {
        match shape {
            Shape::Rect {
                x,
                y: top,
                width,
                height,
                fill,
                stroke,
            } => {
                let rect = |c: &mut Content| {
                    c.rect(*x as f32, y(top + height), *width as f32, *height as f32);
                };
                if let Some(fill) = fill {
                    let [r, g, b] = fill.unit();
                    c.set_fill_rgb(r, g, b);
                    rect(&mut c);
                    c.fill_nonzero();
                }
                if let Some(stroke) = stroke {
                    set_stroke(&mut c, stroke);
                    rect(&mut c);
                    c.stroke();
                }
            }
            Shape::Line { points, stroke } => {
                set_stroke(&mut c, stroke);
                path(&mut c, points, &y);
                c.stroke();
            }
            Shape::Polygon { points, fill } => {
                let [r, g, b] = fill.unit();
                c.set_fill_rgb(r, g, b);
                path(&mut c, points, &y);
                c.close_path();
                c.fill_nonzero();
            }
            Shape::Text {
                x,
                y: baseline,
                text,
                size,
                anchor,
                weight,
                color,
            } => {
                let width = text_width(text, *size, *weight);
                let left = match anchor {
                    Anchor::Start => *x,
                    Anchor::Middle => x - width / 2.0,
                    Anchor::End => x - width,
                };
                let [r, g, b] = color.unit();
                c.set_fill_rgb(r, g, b);
                c.begin_text();
                let font = match weight {
                    Weight::Regular => Name(b"F1"),
                    Weight::Bold => Name(b"F2"),
                };
                c.set_font(font, *size as f32);
                c.next_line(left as f32, y(*baseline));
                c.show(Str(&win_ansi(text)));
                c.end_text();
            }
        }
    }
    c.finish().to_vec()
}

fn set_stroke(c: &mut Content, stroke: &Stroke) {
    let [r, g, b] = stroke.color.unit();
    c.set_stroke_rgb(r, g, b);
    c.set_line_width(stroke.width as f32);
    match stroke.dash {
        Some(dash) => c.set_dash_pattern([dash as f32, dash as f32], 0.0),
        None => c.set_dash_pattern([], 0.0),
    };
}

fn path(c: &mut Content, points: &[(f64, f64)], y: &impl Fn(f64) -> f32) {
    for (i, &(px, py)) in points.iter().enumerate() {
        if i == 0 {
            c.move_to(px as f32, y(py));
        } else {
            c.line_to(px as f32, y(py));
        }
    }
}
