//! The comparison page's pictures: per value of the compared option (a replication mode), what
//! it answered while faults were in force, the anomalies found, every failover measured, its
//! throughput and its p99 latency. Drawn so that "sync stops writing, async loses data" is seen
//! before a number is read: the values in one fixed order and colour (`axis.rs`), each chart's
//! title saying what is drawn and its caption how to read it.

use plotters::prelude::*;

use super::axis::{Axis, Group};
use super::chart_frame::{Chart, Frame, HEIGHT, WIDTH, YAxis, svg_document};
use super::summary::CampaignRun;
use crate::palette::{self, Rgb};
use crate::report::ChartError;
use crate::summary::Verdict;

/// Every chart of the comparison, in the order the page shows them; none without runs.
pub fn comparison_charts(runs: &[CampaignRun], axis: &Axis) -> Result<Vec<Chart>, ChartError> {
    let groups = axis.groups(runs);
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![
        write_availability(&groups, axis)?,
        failover(&groups, axis)?,
        anomalies(&groups, axis)?,
        throughput(&groups, axis)?,
        latency(&groups, axis)?,
    ])
}

fn columns(groups: &[Group<'_>]) -> Vec<(String, Rgb)> {
    groups.iter().map(|g| (g.value.clone(), g.colour)).collect()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn max(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

fn whole(v: &f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

fn write_availability(groups: &[Group<'_>], axis: &Axis) -> Result<Chart, ChartError> {
    let id = "write-availability";
    let title = format!("writes answered during faults, by {}", axis.name());
    let svg = svg_document(id, &title, WIDTH, HEIGHT, |root| {
        let y = YAxis {
            range: 0f64..1.15,
            floor: 0.0,
            desc: "writes answered",
            format: |v| format!("{:.0}%", v * 100.0),
        };
        let mut f = Frame::new(root, &title, &columns(groups), y)?;
        for (i, g) in groups.iter().enumerate() {
            let values: Vec<f64> = g
                .runs
                .iter()
                .filter_map(|r| r.write_availability_during_faults)
                .collect();
            let (Some(m), Some(top)) = (mean(&values), max(&values)) else {
                f.note(i, "no write during a fault")?;
                continue;
            };
            f.bar(i, (-0.3, 0.3), m, g.colour)?;
            f.dots(i, 0.0, &values, g.colour)?;
            f.label(i, 0.0, top, format!("{:.0}%", m * 100.0))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        id,
        caption: "Bar: the mean over a mode's runs, dots: each run. A mode that stops \
                  writing while a fault is in force sits at 0%."
            .to_owned(),
        wide: false,
        svg,
    })
}

fn failover(groups: &[Group<'_>], axis: &Axis) -> Result<Chart, ChartError> {
    let id = "failover";
    let title = format!(
        "failover: leader lost → first write elsewhere, by {}",
        axis.name()
    );
    let per_group: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| {
            g.runs
                .iter()
                .flat_map(|r| r.failovers_s.iter().copied())
                .collect()
        })
        .collect();
    let top = per_group.iter().filter_map(|v| max(v)).fold(1.0, f64::max) * 1.2;
    let svg = svg_document(id, &title, WIDTH, HEIGHT, |root| {
        let y = YAxis {
            range: 0f64..top,
            floor: 0.0,
            desc: "seconds",
            format: |v| format!("{v:.1}"),
        };
        let mut f = Frame::new(root, &title, &columns(groups), y)?;
        for (i, (g, values)) in groups.iter().zip(&per_group).enumerate() {
            let Some(highest) = max(values) else {
                f.note(i, "no failover measured")?;
                continue;
            };
            f.boxplot(i, values, g.colour)?;
            f.dots(i, 0.0, values, g.colour)?;
            let n = values.len();
            let text = format!("{n} failover{}", if n == 1 { "" } else { "s" });
            f.label(i, 0.0, highest, text)?;
        }
        Ok(())
    })?;
    Ok(Chart {
        id,
        caption: "Every failover measured in a mode's runs (a dot each) and their quartiles \
                  (box, median the thick line): how long writes stop when the leader goes."
            .to_owned(),
        wide: false,
        svg,
    })
}

/// A run's count of one kind of anomaly.
type Count = fn(&CampaignRun) -> usize;

/// What the anomaly chart counts, per run: a panel each.
const ANOMALIES: [(&str, Count); 3] = [
    ("lost acknowledged writes", |r| r.lost_writes),
    ("stale reads", |r| r.stale_reads),
    ("runs not linearizable", |r| {
        usize::from(r.verdict == Verdict::Invalid)
    }),
];

fn anomalies(groups: &[Group<'_>], axis: &Axis) -> Result<Chart, ChartError> {
    let id = "anomalies";
    let title = format!("anomalies found, by {}", axis.name());
    let svg = svg_document(id, &title, 2 * WIDTH, HEIGHT, |root| {
        let panels = root.split_evenly((1, ANOMALIES.len()));
        for (panel, (kind, count)) in panels.iter().zip(ANOMALIES) {
            let totals: Vec<usize> = groups
                .iter()
                .map(|g| g.runs.iter().map(|r| count(r)).sum())
                .collect();
            let highest = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
            let y = YAxis {
                range: 0f64..highest * 1.25,
                floor: 0.0,
                desc: "count",
                format: whole,
            };
            let mut f = Frame::new(panel, kind, &columns(groups), y)?;
            for (i, (g, total)) in groups.iter().zip(&totals).enumerate() {
                f.bar(i, (-0.3, 0.3), *total as f64, g.colour)?;
                f.label(i, 0.0, *total as f64, total.to_string())?;
            }
        }
        Ok(())
    })?;
    Ok(Chart {
        id,
        caption: "Summed over a mode's runs: a mode that loses acknowledged writes or serves \
                  stale reads shows a bar; 0 means the checker found none."
            .to_owned(),
        wide: true,
        svg,
    })
}

fn throughput(groups: &[Group<'_>], axis: &Axis) -> Result<Chart, ChartError> {
    let id = "throughput";
    let title = format!("throughput, by {}", axis.name());
    let per_group: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| g.runs.iter().map(|r| r.ops_per_s).collect())
        .collect();
    let top = per_group.iter().filter_map(|v| max(v)).fold(1.0, f64::max) * 1.2;
    let svg = svg_document(id, &title, WIDTH, HEIGHT, |root| {
        let y = YAxis {
            range: 0f64..top,
            floor: 0.0,
            desc: "operations per second",
            format: |v| format!("{v:.0}"),
        };
        let mut f = Frame::new(root, &title, &columns(groups), y)?;
        for (i, (g, values)) in groups.iter().zip(&per_group).enumerate() {
            let (Some(m), Some(highest)) = (mean(values), max(values)) else {
                continue;
            };
            f.bar(i, (-0.3, 0.3), m, g.colour)?;
            f.dots(i, 0.0, values, g.colour)?;
            f.label(i, 0.0, highest, format!("{m:.0}"))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        id,
        caption: "Operations completed per second over the whole run, faults included. Bar: \
                  the mean over a mode's runs, dots: each run."
            .to_owned(),
        wide: false,
        svg,
    })
}

/// The operation types the latency chart draws: reads and the workloads' writes.
const LATENCY_OPS: [&str; 4] = ["read", "write", "append", "add"];

fn millis(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A mode's p99 latencies of `f`, one per run that has some.
fn p99(g: &Group<'_>, f: &str) -> Vec<f64> {
    g.runs
        .iter()
        .filter_map(|r| r.p99_ms.get(f).copied())
        .collect()
}

/// How much further the slowest p99 may be from the fastest before the axis turns logarithmic
/// (a mode that waits out timeouts would flatten every other to nothing).
const LOG_BEYOND: f64 = 30.0;

fn latency(groups: &[Group<'_>], axis: &Axis) -> Result<Chart, ChartError> {
    let id = "latency-p99";
    let title = format!("p99 latency, by {}", axis.name());
    let ops: Vec<&str> = LATENCY_OPS
        .into_iter()
        .filter(|f| groups.iter().any(|g| !p99(g, f).is_empty()))
        .collect();
    let all: Vec<f64> = groups
        .iter()
        .flat_map(|g| ops.iter().flat_map(|f| p99(g, f)))
        .filter(|v| *v > 0.0)
        .collect();
    let (lo, hi) = match (all.iter().copied().reduce(f64::min), max(&all)) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => (1.0, 1.0),
    };
    let log = hi / lo > LOG_BEYOND;
    let svg = svg_document(id, &title, WIDTH, HEIGHT, |root| {
        let columns = columns(groups);
        if log {
            let y = YAxis {
                range: ((lo / 2.0).max(0.001)..hi * 6.0).log_scale(),
                floor: (lo / 2.0).max(0.001),
                desc: "milliseconds (log scale)",
                format: |v| millis(*v),
            };
            latency_bars(Frame::new(root, &title, &columns, y)?, groups, &ops)?;
        } else {
            let y = YAxis {
                range: 0f64..hi * 1.25,
                floor: 0.0,
                desc: "milliseconds",
                format: |v| millis(*v),
            };
            latency_bars(Frame::new(root, &title, &columns, y)?, groups, &ops)?;
        }
        key(root, &ops)
    })?;
    Ok(Chart {
        id,
        caption: format!(
            "Bar: the worst run's p99, dots: each run's{}; read and write in their own \
             colours. What waiting for the replicas costs.",
            if log { ", log scale" } else { "" }
        ),
        wide: false,
        svg,
    })
}

/// A bar per operation type in each mode's column, its runs' dots on it.
fn latency_bars<'a, DB, Y>(
    mut f: Frame<'a, DB, Y>,
    groups: &[Group<'_>],
    ops: &[&str],
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let width = 0.7 / ops.len().max(1) as f64;
    for (i, g) in groups.iter().enumerate() {
        for (k, op) in ops.iter().enumerate() {
            let values = p99(g, op);
            let Some(worst) = max(&values) else { continue };
            let from = -0.35 + k as f64 * width;
            let centre = from + width / 2.0;
            let colour = palette::operation(op);
            f.bar(i, (from + 0.02, from + width - 0.02), worst, colour)?;
            f.dots(i, centre, &values, colour)?;
            f.label(i, centre, worst, millis(worst))?;
        }
    }
    Ok(())
}

/// The operation types' colours, top right of the chart.
fn key<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    ops: &[&str],
) -> Result<(), String> {
    let mut x = WIDTH as i32 - 12 - ops.iter().map(|f| 22 + 6 * f.len() as i32).sum::<i32>();
    for op in ops {
        let colour: RGBColor = palette::operation(op).into();
        root.draw(&Circle::new((x + 5, 35), 5, colour.filled()))
            .map_err(|e| e.to_string())?;
        root.draw(&Text::new(op.to_string(), (x + 14, 29), ("sans-serif", 11)))
            .map_err(|e| e.to_string())?;
        x += 22 + 6 * op.len() as i32;
    }
    Ok(())
}
