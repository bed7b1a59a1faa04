//! The run's charts as SVG, drawn by plotters: latency over time, throughput over time, and
//! per-process bars (the timeline and the counterexample). Fault windows are shaded and named.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::faults::FaultWindow;
use crate::nodes::node_name;

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

const WIDTH: u32 = 960;
const FAULT_SHADE: RGBAColor = RGBAColor(220, 50, 50, 0.12);

/// One point of the latency chart.
pub struct LatencyPoint {
    /// Seconds since the run started (invocation).
    pub at: f64,
    pub millis: f64,
    /// Index into the series (op type) colours.
    pub series: usize,
}

pub const SERIES_COLOURS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

fn shade_faults<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    faults: &[FaultWindow],
    (y0, y1): (f64, f64),
) -> Result<(), String> {
    chart
        .draw_series(faults.iter().map(|w| {
            Rectangle::new(
                [(w.start as f64 / 1e9, y0), (w.end as f64 / 1e9, y1)],
                FAULT_SHADE.filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(faults.iter().map(|w| {
            Text::new(
                w.fault.clone(),
                (w.start as f64 / 1e9, y1),
                ("sans-serif", 11).into_font().color(&RED),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Draws the series' legend in the chart's corner.
fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// Latency of completed operations against the time they were invoked, log scale.
pub fn latency(
    points: &[LatencyPoint],
    series: &[String],
    faults: &[FaultWindow],
    duration_s: f64,
) -> Result<String, ChartError> {
    let e = err("latency");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let max = points.iter().map(|p| p.millis).fold(1.0, f64::max) * 1.5;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..duration_s.max(1.0), (0.05f64..max).log_scale())
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("latency (ms)")
            .draw()
            .map_err(|x| e(x.to_string()))?;
        shade_faults(&mut chart, faults, (0.05, max)).map_err(&e)?;
        for (i, name) in series.iter().enumerate() {
            let colour = SERIES_COLOURS[i.min(SERIES_COLOURS.len() - 1)];
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|p| p.series == i)
                        .map(|p| Circle::new((p.at, p.millis.max(0.05)), 1, colour.filled())),
                )
                .map_err(|x| e(x.to_string()))?
                .label(name.clone())
                .legend(move |(x, y)| Circle::new((x, y), 3, colour.filled()));
        }
        legend(&mut chart).map_err(&e)?;
        root.present().map_err(|x| e(x.to_string()))?;
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
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let max = buckets
            .iter()
            .flat_map(|(_, c)| c.iter())
            .copied()
            .max()
            .unwrap_or(1) as f64
            * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..duration_s.max(1.0), 0f64..max.max(1.0))
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("ops/s")
            .draw()
            .map_err(|x| e(x.to_string()))?;
        shade_faults(&mut chart, faults, (0.0, max)).map_err(&e)?;
        let outcomes = [
            ("ok", GREEN),
            ("rejected", RGBColor(148, 103, 189)),
            ("fail", BLUE),
            ("info", RED),
        ];
        for (i, (name, colour)) in outcomes.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    buckets.iter().map(|(t, c)| (*t, c[i] as f64)),
                    colour,
                ))
                .map_err(|x| e(x.to_string()))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], colour));
        }
        legend(&mut chart).map_err(&e)?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// Each node's clock offset (ms, as the controller estimated it) over the run.
pub fn clocks(
    series: &[(u32, Vec<(f64, f64)>)],
    faults: &[FaultWindow],
    duration_s: f64,
) -> Result<String, ChartError> {
    let e = err("clocks");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 240)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let values = series
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.1));
        let (lo, hi) = values.fold((-1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = (hi - lo) * 0.1;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..duration_s.max(1.0), (lo - pad)..(hi + pad))
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("clock offset (ms)")
            .draw()
            .map_err(|x| e(x.to_string()))?;
        shade_faults(&mut chart, faults, (lo - pad, hi + pad)).map_err(&e)?;
        for (i, (node, points)) in series.iter().enumerate() {
            let colour = SERIES_COLOURS[i % SERIES_COLOURS.len()];
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour))
                .map_err(|x| e(x.to_string()))?
                .label(node_name(u64::from(*node)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], colour));
        }
        legend(&mut chart).map_err(&e)?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// How a bar of the per-process chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// The operation that cannot be linearized.
    Blocked,
    /// Part of the longest linearization found.
    Linearized,
    /// Concurrent with the blocked operation, not linearized.
    Concurrent,
    Other,
}

/// One operation as a bar in its process's lane.
pub struct Bar {
    pub lane: String,
    /// Milliseconds since the run started.
    pub start: f64,
    pub end: f64,
    pub label: String,
    pub kind: BarKind,
}

/// Operations as bars, one lane per process (Jepsen's timeline, Porcupine's picture).
pub fn bars(title: &str, bars: &[Bar]) -> Result<String, ChartError> {
    let e = err("timeline");
    let mut lanes: Vec<&str> = Vec::new();
    for b in bars {
        if !lanes.contains(&b.lane.as_str()) {
            lanes.push(&b.lane);
        }
    }
    let start = bars.iter().map(|b| b.start).fold(f64::INFINITY, f64::min);
    let end = bars.iter().map(|b| b.end).fold(f64::NEG_INFINITY, f64::max);
    let (start, end) = if start.is_finite() && end > start {
        (start, end)
    } else {
        (0.0, 1.0)
    };
    let height = (60 + 28 * lanes.len()).min(4000) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 14))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(90)
            .build_cartesian_2d(start..end, 0f64..lanes.len() as f64)
            .map_err(|x| e(x.to_string()))?;
        let lane_names: Vec<String> = lanes.iter().map(|l| l.to_string()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("milliseconds since the run started")
            .y_labels(lanes.len().max(1))
            .y_label_formatter(&|y| {
                lane_names
                    .get(y.floor() as usize)
                    .cloned()
                    .unwrap_or_default()
            })
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for b in bars {
            let lane = lanes.iter().position(|l| *l == b.lane).unwrap_or(0) as f64;
            let colour = match b.kind {
                BarKind::Blocked => RGBColor(214, 39, 40),
                BarKind::Linearized => RGBColor(44, 160, 44),
                BarKind::Concurrent => RGBColor(255, 127, 14),
                BarKind::Other => RGBColor(160, 160, 160),
            };
            chart
                .draw_series([
                    Rectangle::new(
                        [(b.start, lane + 0.2), (b.end.max(b.start), lane + 0.8)],
                        colour.mix(0.6).filled(),
                    ),
                    Rectangle::new(
                        [(b.start, lane + 0.2), (b.end.max(b.start), lane + 0.8)],
                        colour.stroke_width(1),
                    ),
                ])
                .map_err(|x| e(x.to_string()))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    b.label.clone(),
                    (b.start, lane + 0.75),
                    ("sans-serif", 10),
                )))
                .map_err(|x| e(x.to_string()))?;
        }
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}
