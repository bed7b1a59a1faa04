//! The run's charts as SVG, drawn by plotters: latency, throughput and clocks over time (their
//! frame, with the fault windows, in `time_chart.rs`).

use plotters::element::{DynElement, IntoDynElement};
use plotters::prelude::*;

use super::time_chart::{TimeChart, WIDTH, YAxis, line_mark};
use crate::faults::FaultWindow;
use crate::nodes::node_name;
use crate::palette::{self, OutcomeColour};

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    pub chart: &'static str,
    pub message: String,
}

fn err(chart: &'static str) -> impl Fn(String) -> ChartError {
    move |message| ChartError { chart, message }
}

/// What became of an operation, as the latency chart marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Fail,
    /// Indeterminate: the client gave up (a timeout); its latency is when it did.
    Info,
    /// Invoked and never completed in the history: drawn in a band above every answer.
    Unanswered,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::Fail,
        Outcome::Info,
        Outcome::Unanswered,
    ];

    fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Unanswered => "no answer",
        }
    }

    /// Colour says the operation type, the mark its outcome: a dot for ok, a cross for fail, a
    /// triangle for info, a hollow one for no answer. `scale` enlarges it for the key.
    fn mark<'a, DB: DrawingBackend + 'a, C: Clone + 'static>(
        self,
        at: C,
        colour: RGBColor,
        scale: i32,
    ) -> DynElement<'a, DB, C> {
        match self {
            Outcome::Ok => Circle::new(at, scale, colour.filled()).into_dyn(),
            Outcome::Fail => Cross::new(at, 2 * scale, colour.stroke_width(1)).into_dyn(),
            Outcome::Info => TriangleMarker::new(at, 3 * scale, colour.filled()).into_dyn(),
            Outcome::Unanswered => {
                let (w, h) = (3 * scale, 3 * scale);
                let outline = vec![(0, -h), (w, h), (-w, h), (0, -h)];
                (EmptyElement::at(at) + PathElement::new(outline, colour.stroke_width(1)))
                    .into_dyn()
            }
        }
    }
}

/// One operation on the latency chart.
pub struct LatencyPoint {
    /// Seconds since the run started (invocation).
    pub at: f64,
    /// Invocation to completion; for `Unanswered`, to the end of the history (a lower bound).
    pub millis: f64,
    /// Index into the chart's series (operation types), each drawn in its type's colour.
    pub series: usize,
    pub outcome: Outcome,
}

/// Latency against the time operations were invoked, log scale, as Jepsen's latency-raw plot:
/// every point it is given (ok, fail, info) on an axis spanning all of them, so timeouts form a
/// band at the top; operations never answered in a shaded band above that.
pub fn latency(
    points: &[LatencyPoint],
    series: &[String],
    faults: &[FaultWindow],
    duration_s: f64,
) -> Result<String, ChartError> {
    let e = err("latency");
    // A log axis needs a floor above zero: a microsecond is below any network round trip.
    const FLOOR_MS: f64 = 0.001;
    let answered = points
        .iter()
        .filter(|p| p.outcome != Outcome::Unanswered)
        .map(|p| p.millis.max(FLOOR_MS));
    let (lo, hi) = answered.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if hi > 0.0 {
        (lo / 1.5, (hi * 1.5).max(lo * 10.0))
    } else {
        (0.05, 1.5)
    };
    let no_answer = points.iter().any(|p| p.outcome == Outcome::Unanswered);
    let top = if no_answer { hi * 3.0 } else { hi };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 320)).into_drawing_area();
        let y = YAxis {
            range: (lo..top).log_scale(),
            extent: (lo, top),
            desc: "latency (ms)",
            label_area: 50,
        };
        let mut chart = TimeChart::new(&root, faults, duration_s, y).map_err(&e)?;
        if no_answer {
            chart
                .plot
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, hi), (duration_s.max(1.0), top)],
                    BLACK.mix(0.05).filled(),
                )))
                .map_err(|x| e(x.to_string()))?;
        }
        let band = (hi * top).sqrt();
        for (i, name) in series.iter().enumerate() {
            let colour: RGBColor = palette::operation(name).into();
            for outcome in Outcome::ALL {
                let mut mine = points
                    .iter()
                    .filter(|p| p.series == i && p.outcome == outcome)
                    .peekable();
                if mine.peek().is_none() {
                    continue;
                }
                let plot = chart.plot.plotting_area();
                for p in mine {
                    let y = match outcome {
                        Outcome::Unanswered => band,
                        _ => p.millis.max(FLOOR_MS),
                    };
                    plot.draw(&outcome.mark((p.at, y), colour, 1))
                        .map_err(|x| e(x.to_string()))?;
                }
                chart.key(format!("{name} {}", outcome.name()), move |at| {
                    outcome.mark(at, colour, 2)
                });
            }
        }
        chart.finish().map_err(&e)?;
    }
    Ok(svg)
}

/// Completions per second by outcome.
pub fn throughput(
    buckets: &[(f64, [u64; 4])],
    faults: &[FaultWindow],
    duration_s: f64,
) -> Result<String, ChartError> {
    let e = err("throughput");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        let max = buckets
            .iter()
            .flat_map(|(_, c)| c.iter())
            .copied()
            .max()
            .unwrap_or(1) as f64
            * 1.15;
        let y = YAxis {
            range: 0f64..max.max(1.0),
            extent: (0.0, max),
            desc: "ops/s",
            label_area: 60,
        };
        let mut chart = TimeChart::new(&root, faults, duration_s, y).map_err(&e)?;
        // In the order of the buckets' counts.
        let outcomes = [
            ("ok", OutcomeColour::Ok),
            ("rejected", OutcomeColour::Rejected),
            ("fail", OutcomeColour::Fail),
            ("info", OutcomeColour::Info),
        ];
        for (i, (name, outcome)) in outcomes.into_iter().enumerate() {
            let colour: RGBColor = palette::outcome(outcome).into();
            chart
                .plot
                .draw_series(LineSeries::new(
                    buckets.iter().map(|(t, c)| (*t, c[i] as f64)),
                    colour,
                ))
                .map_err(|x| e(x.to_string()))?;
            chart.key(name, line_mark(colour));
        }
        chart.finish().map_err(&e)?;
    }
    Ok(svg)
}

/// Each node's clock offset (ms, as the controller estimated it) over the run; node `nN` in
/// the series colour of rank N - 1, whichever nodes have samples.
pub fn clocks(
    series: &[(u32, Vec<(f64, f64)>)],
    faults: &[FaultWindow],
    duration_s: f64,
) -> Result<String, ChartError> {
    let e = err("clocks");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 240)).into_drawing_area();
        let values = series
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.1));
        let (lo, hi) = values.fold((-1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = (hi - lo) * 0.1;
        let y = YAxis {
            range: (lo - pad)..(hi + pad),
            extent: (lo - pad, hi + pad),
            desc: "clock offset (ms)",
            label_area: 60,
        };
        let mut chart = TimeChart::new(&root, faults, duration_s, y).map_err(&e)?;
        for (node, points) in series {
            let colour: RGBColor = palette::series(node.saturating_sub(1) as usize).into();
            chart
                .plot
                .draw_series(LineSeries::new(points.iter().copied(), colour))
                .map_err(|x| e(x.to_string()))?;
            chart.key(node_name(u64::from(*node)), line_mark(colour));
        }
        chart.finish().map_err(&e)?;
    }
    Ok(svg)
}
