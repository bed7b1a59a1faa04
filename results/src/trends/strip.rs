//! A cell's verdict strip: one mark per night, newest right, drawn as SVG by hand. Nights with
//! the same outcome side by side are one rectangle (with a title saying which nights), so a
//! year of a steady cell costs a few rectangles, not 365; a cell that changes outcome more than
//! `MAX_TITLED_RUNS` times is one path per outcome with one title, so a year of flips stays small.

use std::fmt::Write;

use super::NightInfo;
use super::cell::{CellNight, NightOutcome};
use crate::markup::escape;
use crate::palette::{NIGHT_FAIL, NIGHT_INTERRUPTED, NIGHT_MISSING, NIGHT_PASS, Rgb};

/// Height of a strip, pixels.
const HEIGHT: u32 = 14;
/// Width of the whole strip: a night is narrower the more nights there are.
const MAX_WIDTH: f64 = 600.0;
const MAX_NIGHT: f64 = 14.0;
/// Past this many runs of equal nights a strip is drawn as one path per outcome with one title.
const MAX_TITLED_RUNS: usize = 60;

fn look(n: &Option<CellNight>) -> (&'static str, Rgb) {
    match n.as_ref().map(|n| n.outcome) {
        Some(NightOutcome::Pass) => ("pass", NIGHT_PASS),
        Some(NightOutcome::Fail) => ("FAIL", NIGHT_FAIL),
        Some(NightOutcome::Interrupted) => ("interrupted", NIGHT_INTERRUPTED),
        None => ("not run", NIGHT_MISSING),
    }
}

/// The strip of `series` as an SVG element.
pub fn strip(name: &str, series: &[Option<CellNight>], nights: &[NightInfo]) -> String {
    let n = series.len().max(1) as f64;
    let each = (MAX_WIDTH / n).min(MAX_NIGHT);
    let width = (each * n).ceil();
    let mut svg = format!(
        "<svg class=\"strip\" width=\"{width}\" height=\"{HEIGHT}\" viewBox=\"0 0 {width} {HEIGHT}\" role=\"img\" aria-label=\"{} verdicts, oldest left\">",
        escape(name)
    );
    // Runs of equal nights: (first, past the last).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < series.len() {
        let word = look(&series[start]).0;
        let mut end = start + 1;
        while end < series.len() && look(&series[end]).0 == word {
            end += 1;
        }
        runs.push((start, end));
        start = end;
    }
    // A pixel's gap between segments where a night is wide enough to spare it.
    let gap = if each >= 3.0 { 1.0 } else { 0.0 };
    if runs.len() <= MAX_TITLED_RUNS {
        for &(start, end) in &runs {
            let (word, colour) = look(&series[start]);
            let nights_text = if end - start == 1 {
                format!("night {}", stamp_of(nights, start))
            } else {
                format!(
                    "nights {} – {}",
                    stamp_of(nights, start),
                    stamp_of(nights, end - 1)
                )
            };
            let verdict = match (&series[start], end - start) {
                (Some(night), 1) => format!(" ({})", escape(&night.verdict)),
                _ => String::new(),
            };
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" width=\"{:.1}\" height=\"{HEIGHT}\" fill=\"{}\"><title>{nights_text}: {word}{verdict}</title></rect>",
                start as f64 * each,
                (end - start) as f64 * each - gap,
                colour.hex()
            );
        }
    } else {
        // A cell that changes outcome this often: one path per outcome and one title for the
        // strip, so a year of flips stays a few KB (a titled rectangle per run is ~115 bytes:
        // 50 cells flipping nightly made a 3.4 MB page). The figures below still show each night.
        let mut counts: Vec<(&'static str, Rgb, usize)> = Vec::new();
        for night in series {
            let (word, colour) = look(night);
            match counts.iter_mut().find(|(w, _, _)| *w == word) {
                Some((_, _, c)) => *c += 1,
                None => counts.push((word, colour, 1)),
            }
        }
        let summary: Vec<String> = counts.iter().map(|(w, _, c)| format!("{c} {w}")).collect();
        let _ = write!(
            svg,
            "<title>{} nights, {} changes of outcome: {}</title>",
            series.len(),
            runs.len() - 1,
            summary.join(", ")
        );
        for (word, colour, _) in &counts {
            let mut d = String::new();
            for &(start, end) in runs.iter().filter(|&&(s, _)| look(&series[s]).0 == *word) {
                let w = (end - start) as f64 * each - gap;
                let _ = write!(d, "M{:.1} 0h{w:.1}v{HEIGHT}h-{w:.1}z", start as f64 * each);
            }
            let _ = write!(svg, "<path d=\"{d}\" fill=\"{}\"/>", colour.hex());
        }
    }
    svg.push_str("</svg>");
    svg
}

fn stamp_of(nights: &[NightInfo], i: usize) -> String {
    nights
        .get(i)
        .map_or_else(String::new, |n| super::page::when(&n.stamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::Provenance;
    use crate::trends::NightOutcome;

    #[test]
    fn a_verdict_read_from_a_file_cannot_break_out_of_the_strip() {
        let night = CellNight {
            outcome: NightOutcome::Fail,
            verdict: "</title></rect></svg><script>alert(1)</script>".into(),
            report: String::new(),
            ops_per_s: None,
            write_p99_ms: None,
            write_availability_during_faults: None,
            failover_s: None,
        };
        let nights = [NightInfo {
            stamp: "20260101T000000.000Z".into(),
            provenance: Provenance::default(),
        }];
        let svg = strip("cell", &[Some(night)], &nights);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;/title&gt;"), "{svg}");
    }
}
