//! The counterexample chart as SVG text, from its layout: what is drawn where was decided in
//! `layout.rs`; this file only says how each thing looks. Hover text is each element's `<title>`.

use std::fmt::Write;

use super::layout::{BADGE, BAR_HEIGHT, FONT, Layout, PLOT_LEFT, PLOT_RIGHT, Text, WIDTH};
use super::{CxOp, Role};
use crate::markup::escape;
use crate::palette::{self, Rgb};

/// What the chart needs besides its layout: the ops (for colours and hover text), the fault
/// bands' family colours and hover text, in the layout's order.
pub struct Drawing<'a> {
    pub layout: &'a Layout,
    pub ops: &'a [CxOp],
    /// The linearization's ops, in order (indices into `ops`), as the layout's badges.
    pub order: &'a [usize],
    pub bands: &'a [(Rgb, String)],
    /// Under the axis: how to read it.
    pub axis_note: &'a str,
}

fn text(out: &mut String, t: &Text, attrs: &str) {
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{:.1}"{attrs}>{}</text>"#,
        t.x,
        t.y,
        escape(&t.text)
    );
}

fn colour(role: Role) -> Rgb {
    match role {
        Role::Blocked => palette::BLOCKED,
        Role::Linearized => palette::LINEARIZED,
        Role::Concurrent => palette::CONCURRENT,
        Role::Conflict => palette::CONTEXT,
    }
}

pub fn svg(d: &Drawing<'_>) -> String {
    let l = d.layout;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="counterexample" width="{WIDTH}" height="{h:.0}" viewBox="0 0 {WIDTH} {h:.0}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="{FONT}" role="img" aria-label="counterexample">"#,
        h = l.height
    );
    let ink = palette::LINEARIZED.ink().hex();
    let _ = write!(
        out,
        r#"<defs><marker id="cx-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="{ink}"/></marker></defs>"#
    );
    out.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // Lanes: a light stripe every other lane, the process's name left of it.
    for (i, (process, top)) in l.lanes.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(
                out,
                r##"<rect x="{PLOT_LEFT}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="#f4f4f4"/>"##,
                PLOT_RIGHT - PLOT_LEFT,
                super::layout::LANE
            );
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#333">process {process}</text>"##,
            PLOT_LEFT - 6.0,
            top + 15.0 + BAR_HEIGHT / 2.0 + 4.0
        );
    }

    // Faults in force: shaded across every lane, named in a header row of their own.
    for (band, (rgb, title)) in l.bands.iter().zip(d.bands) {
        let _ = write!(
            out,
            r#"<g class="cx-fault"><title>{}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/><rect x="{:.1}" y="{:.1}" width="{:.1}" height="14" fill="{}"/>"#,
            escape(title),
            band.x,
            l.lanes_top,
            band.width,
            l.lanes_bottom - l.lanes_top,
            rgb.rgba(0.13),
            band.x,
            band.row_y,
            band.width,
            rgb.rgba(0.45),
        );
        if let Some(label) = &band.label {
            text(
                &mut out,
                label,
                &format!(r#" fill="{}" font-weight="bold""#, rgb.ink().hex()),
            );
        }
        out.push_str("</g>");
    }

    // Operations: the bar, its label, and everything about it on hover.
    for (op, bar) in d.ops.iter().zip(&l.bars) {
        let rgb = colour(op.role);
        let id = if op.role == Role::Blocked {
            r#" id="cx-blocked""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<g class="cx-op" data-index="{}"><title>{}</title>"#,
            op.index,
            escape(&op.hover)
        );
        // A never-answered op fades out towards the right edge instead of ending.
        let (fill, stroke_dash) = if bar.open {
            (rgb.rgba(0.25), r#" stroke-dasharray="4 3""#)
        } else {
            (rgb.rgba(0.75), "")
        };
        let stroke_width = if op.role == Role::Blocked { 2.5 } else { 1.0 };
        let _ = write!(
            out,
            r#"<rect{id} x="{:.1}" y="{:.1}" width="{:.1}" height="{BAR_HEIGHT}" rx="2" fill="{fill}" stroke="{}" stroke-width="{stroke_width}"{stroke_dash}/>"#,
            bar.x,
            bar.y,
            bar.width,
            rgb.ink().hex(),
        );
        if let Some(label) = &bar.label {
            let weight = if op.role == Role::Blocked {
                r#" font-weight="bold""#
            } else {
                ""
            };
            text(
                &mut out,
                label,
                &format!(r#" fill="{}"{weight}"#, rgb.ink().hex()),
            );
        }
        out.push_str("</g>");
    }

    // The longest linearization found, as an order: a path through its points, numbered.
    if l.badges.len() > 1 {
        let points: Vec<String> = l
            .badges
            .iter()
            .map(|b| format!("{:.1},{:.1}", b.x, b.y))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="cx-order" points="{}" fill="none" stroke="{ink}" stroke-width="1.5" marker-mid="url(#cx-arrow)" marker-end="url(#cx-arrow)"/>"#,
            points.join(" ")
        );
    }
    for (badge, &i) in l.badges.iter().zip(d.order) {
        let title = d.ops.get(i).map(|op| escape(&op.hover)).unwrap_or_default();
        match badge.number {
            Some(n) => {
                let _ = write!(
                    out,
                    r##"<g class="cx-step"><title>{title}</title><circle cx="{:.1}" cy="{:.1}" r="{BADGE}" fill="{ink}" stroke="#ffffff"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9" fill="#ffffff">{n}</text></g>"##,
                    badge.x,
                    badge.y,
                    badge.x,
                    badge.y + 3.0
                );
            }
            None => {
                let _ = write!(
                    out,
                    r#"<g class="cx-step"><title>{title}</title><circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{ink}"/></g>"#,
                    badge.x, badge.y
                );
            }
        }
    }

    // The axis: a tick at every event time, the times that fit, how to read it, and the key.
    let y = l.axis_y;
    let _ = write!(
        out,
        r##"<line x1="{PLOT_LEFT}" y1="{y:.1}" x2="{PLOT_RIGHT}" y2="{y:.1}" stroke="#555"/>"##
    );
    for x in &l.ticks {
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#555"/>"##,
            y + 4.0
        );
    }
    for t in &l.tick_labels {
        text(&mut out, t, r##" fill="#333""##);
    }
    let _ = write!(
        out,
        r##"<text x="{PLOT_LEFT}" y="{:.1}" fill="#555">{}</text>"##,
        y + 36.0,
        escape(d.axis_note)
    );
    let mut x = PLOT_LEFT;
    let key_y = y + 56.0;
    let mut key = vec![
        (palette::BLOCKED, "cannot be linearized"),
        (palette::LINEARIZED, "linearized (numbered in order)"),
        (palette::CONCURRENT, "concurrent, not linearized"),
    ];
    if d.ops.iter().any(|op| op.role == Role::Conflict) {
        key.push((palette::CONTEXT, "the op it conflicts with"));
    }
    for (rgb, name) in key {
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="14" height="10" fill="{}"/><text x="{:.1}" y="{key_y:.1}" fill="{}">{name}</text>"#,
            key_y - 9.0,
            rgb.rgba(0.75),
            x + 18.0,
            rgb.ink().hex()
        );
        x += 18.0 + name.chars().count() as f64 * super::layout::CHAR + 16.0;
    }
    out.push_str("</svg>");
    out
}
