//! The SVG coverage badge.

use std::io::Write;

use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use crate::render::render_to;
use crate::{Error, Stat};

/// An SVG badge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Badge {
    /// Left text.
    pub label: String,
    /// Right text.
    pub value: String,
    /// Right background (`#4c1`).
    pub color: String,
    /// Width of the left part in pixels.
    pub label_width: u32,
    /// Width of the right part in pixels.
    pub value_width: u32,
}

impl Badge {
    /// A coverage badge: red below 50%, orange below 70%, yellow below
    /// 80%, yellowgreen below 90%, green from 90%.
    pub fn coverage(label: &str, stat: &Stat) -> Badge {
        let p = stat.value();
        let color = match p {
            p if p >= 90.0 => "#4c1",
            p if p >= 80.0 => "#97ca00",
            p if p >= 70.0 => "#dfb317",
            p if p >= 50.0 => "#fe7d37",
            _ => "#e05d44",
        };
        let value = if stat.total == 0 {
            "unknown".to_string()
        } else {
            format!("{}%", stat.percent)
        };
        let color = if stat.total == 0 { "#9f9f9f" } else { color };
        Badge {
            label_width: text_width(label) + 10,
            value_width: text_width(&value) + 10,
            label: label.to_string(),
            value,
            color: color.to_string(),
        }
    }

    /// Total width.
    pub fn width(&self) -> u32 {
        self.label_width + self.value_width
    }
}

/// Estimated width in pixels of `s` in 11px Verdana (the badge font),
/// per character class; close enough that the text neither overflows
/// nor floats in empty space.
fn text_width(s: &str) -> u32 {
    let w: f64 = s
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' => 3.5,
            'f' | 'r' | 't' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' | 'I' => 4.8,
            'm' | 'w' | 'M' | 'W' | '%' => 10.5,
            'A'..='Z' | '#' | '&' | '@' => 7.8,
            '0'..='9' => 7.0,
            c if c.is_ascii() => 6.5,
            _ => 10.0,
        })
        .sum();
    w.ceil() as u32
}

/// Writes an SVG badge.
pub fn write_badge<W: Write>(w: W, b: &Badge) -> Result<(), Error> {
    render_to("badge.svg", context! { b => Serde(b) }, w)
}
