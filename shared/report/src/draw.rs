//! The page as drawing primitives: what the layout produces and the SVG and PDF writers serialise. Coordinates are
//! points (1/72 inch) from the page's top-left corner, y downwards.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Components 0–1.
    pub fn unit(self) -> [f32; 3] {
        [self.0, self.1, self.2].map(|c| f32::from(c) / 255.0)
    }
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    pub color: Color,
    pub width: f64,
    /// Dash and gap length; `None` for a solid line.
    pub dash: Option<f64>,
}

/// Which point of the text its `x` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// Helvetica, the one typeface of the page (a PDF base-14 font, so nothing is embedded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
        fill: Option<Color>,
        stroke: Option<Stroke>,
    },
    /// An open polyline.
    Line { points: Vec<(f64, f64)>, stroke: Stroke },
    /// A closed, filled polygon (a percentile band).
    Polygon { points: Vec<(f64, f64)>, fill: Color },
    /// One line of text; `y` is its baseline.
    Text {
        x: f64,
        y: f64,
        text: String,
        size: f64,
        anchor: Anchor,
        weight: Weight,
        color: Color,
    },
}

/// Shapes drawn together under an id (a panel, a band, a day), so tests and stylesheets can find them.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub shapes: Vec<Shape>,
}

/// One page: its size in points and its groups in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub width: f64,
    pub height: f64,
    pub title: String,
    pub groups: Vec<Group>,
}

impl Page {
    /// The group with `id`, if drawn.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
}
