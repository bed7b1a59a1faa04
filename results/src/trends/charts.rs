//! A cell's figures across nights, one small chart each, drawn as SVG by plotters: the value of
//! every night that measured it (newest right, gaps where a night did not), the nights the
//! regression rule marks circled in the regression colour.

use plotters::prelude::*;

use super::{CellTrend, Figure};
use crate::palette::{REGRESSION, series};
use crate::report::ChartError;

pub const WIDTH: u32 = 270;
pub const HEIGHT: u32 = 110;

/// The chart of `figure` for `cell`, its SVG element's id `chart-<cell>-<figure>`.
pub fn figure_chart(
    cell_index: usize,
    cell: &CellTrend,
    figure: &Figure,
) -> Result<Option<String>, ChartError> {
    let values: Vec<Option<f64>> = cell
        .nights
        .iter()
        .map(|n| n.as_ref().and_then(figure.value).filter(|v| v.is_finite()))
        .collect();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    if known.is_empty() {
        return Ok(None);
    }
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let hi = if hi <= lo { lo + 1.0 } else { hi * 1.1 };
    let marked: &[usize] = cell
        .regressions
        .iter()
        .find(|r| r.figure == figure.id)
        .map_or(&[], |r| r.nights.as_slice());
    let err = |message: String| ChartError {
        chart: figure.id,
        message,
    };
    let n = values.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(figure.title, ("sans-serif", 12))
            .margin(4)
            .x_label_area_size(4)
            .y_label_area_size(40)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5).max(0.5), lo..hi)
            .map_err(|e| err(e.to_string()))?;
        let format = figure.format;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(3)
            .y_label_formatter(&|v| format(*v))
            .light_line_style(WHITE)
            .label_style(("sans-serif", 10))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        let colour: RGBColor = series(0).into();
        // One polyline per run of measured nights: a night without the figure is a gap.
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in values.iter().enumerate() {
            match (v, segments.last_mut()) {
                (Some(v), Some(last)) => last.push((i as f64, *v)),
                (None, Some(last)) if !last.is_empty() => segments.push(Vec::new()),
                _ => {}
            }
        }
        for segment in segments.into_iter().filter(|s| !s.is_empty()) {
            if segment.len() == 1 {
                chart
                    .draw_series(segment.iter().map(|p| Circle::new(*p, 2, colour.filled())))
                    .map_err(|e| err(e.to_string()))?;
            } else {
                chart
                    .draw_series(LineSeries::new(segment, colour.stroke_width(1)))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        let red: RGBColor = REGRESSION.into();
        chart
            .draw_series(marked.iter().filter_map(|&i| {
                values
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|v| Circle::new((i as f64, v), 4, red.stroke_width(2)))
            }))
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let open = svg.find('>').map_or(0, |at| at + 1);
    let head = svg[..open].replacen(
        "<svg ",
        &format!("<svg id=\"chart-{cell_index}-{}\" role=\"img\" ", figure.id),
        1,
    );
    Ok(Some(format!(
        "{head}<title>{}: {}</title>{}",
        cell.name.replace('&', "&amp;").replace('<', "&lt;"),
        figure.title,
        &svg[open..]
    )))
}
