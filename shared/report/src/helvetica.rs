//! Helvetica's glyph widths (Adobe's AFM metrics, 1/1000 em) for printable ASCII, so right-aligned and centred
//! text can be placed in the PDF, and the WinAnsi encoding of text for the base-14 font.

use crate::draw::Weight;

/// Widths of the characters 32 (space) to 126 (`~`).
const REGULAR: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0 to 9
    278, 278, 584, 584, 584, 556, 1015, // : to @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A to Z
    278, 278, 278, 469, 556, 333, // [ to `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a to z
    334, 260, 334, 584, // { to ~
];

const BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0 to 9
    333, 333, 584, 584, 584, 611, 975, // : to @
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A to Z
    333, 278, 333, 584, 556, 333, // [ to `
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
    556, 556, 500, // a to z
    389, 280, 389, 584, // { to ~
];

/// Width of a character outside printable ASCII (accented letters, dashes): close enough to place a line.
const OTHER: u16 = 556;

/// Width of `text` at `size` points.
pub fn text_width(text: &str, size: f64, weight: Weight) -> f64 {
    let table = match weight {
        Weight::Regular => &REGULAR,
        Weight::Bold => &BOLD,
    };
    let units: u32 = text
        .chars()
        .map(|c| match c {
            ' '..='~' => u32::from(table[c as usize - 32]),
            '–' => 556,
            '·' => 278,
            _ => u32::from(OTHER),
        })
        .sum();
    f64::from(units) * size / 1000.0
}

/// `text` in WinAnsiEncoding: Latin-1 maps to itself, the dashes and the bullet to their code points, anything
/// else (a name in another script) to `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '–' => 0x96,
            '—' => 0x97,
            '•' => 0x95,
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_metrics() {
        assert_eq!(text_width("0", 10.0, Weight::Regular), 5.56);
        assert_eq!(text_width("W i", 1000.0, Weight::Regular), 944.0 + 278.0 + 222.0);
        assert_eq!(text_width("i", 1000.0, Weight::Bold), 278.0);
        assert_eq!(text_width("~", 1000.0, Weight::Bold), 584.0);
    }

    #[test]
    fn text_is_encoded_for_the_base_font() {
        assert_eq!(win_ansi("70–180 é"), b"70\x96180 \xe9");
        assert_eq!(win_ansi("≥漢"), b"??");
    }
}
