//! What every chart against the run's time shares: the fault windows shaded by family with
//! their labels stacked in rows above the plot, and the key (legend) right of the plot.
//!
//! plotters' own legend is clipped to the plot, where it would hide what the chart is read for
//! (the slowest operations sit at the top of the latency chart), so the key is drawn here, in a
//! gutter of its own.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::element::{DynElement, IntoDynElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::faults::FaultWindow;
use crate::palette;

pub const WIDTH: u32 = 960;
const MARGIN: u32 = 10;
/// Room right of the plot for the key.
const KEY_GUTTER: u32 = 150;
const KEY_ROW: i32 = 15;

/// Fault labels: the size plotters is asked for (it draws 11 as 8.9 px), a row's height, and a
/// character's width as drawn (lower case takes ~5 px a character, so 6 is generous).
const LABEL_FONT: u32 = 11;
const LABEL_ROW: u32 = 12;
const LABEL_CHAR: i32 = 6;
/// Space kept between two labels in a row.
const LABEL_GAP: i32 = 6;
/// Rows for fault labels: one per family fits every overlap the nemesis makes (each family runs
/// its own schedule); a label with no room left in them is dropped.
const MAX_LABEL_ROWS: usize = 3;

/// How opaque a fault window's shade is.
const SHADE: f64 = 0.15;

/// The families of faults the nemesis runs on schedules of their own, so that windows of
/// different families overlap: each has its own shade, and the key names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Process,
    Network,
    Clock,
    /// An imported history's nemesis, or a fault this build does not know.
    Other,
}

impl Family {
    const ALL: [Family; 4] = [
        Family::Process,
        Family::Network,
        Family::Clock,
        Family::Other,
    ];

    fn of(fault: &str) -> Family {
        match palette::family_of_fault(fault) {
            "process" => Family::Process,
            "network" => Family::Network,
            "clock" => Family::Clock,
            _ => Family::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Process => "process fault",
            Family::Network => "network fault",
            Family::Clock => "clock fault",
            Family::Other => "other fault",
        }
    }

    /// The family as the palette names it.
    fn palette_name(self) -> &'static str {
        match self {
            Family::Process => "process",
            Family::Network => "network",
            Family::Clock => "clock",
            Family::Other => "other",
        }
    }

    fn colour(self) -> RGBColor {
        palette::fault_family(self.palette_name()).into()
    }

    /// The colour of its labels: the shade's hue, dark enough to read.
    fn ink(self) -> RGBColor {
        palette::fault_family(self.palette_name()).ink().into()
    }
}

/// A fault's shade as CSS, for the fault table's swatch.
pub fn fault_colour(fault: &str) -> String {
    palette::fault_family(Family::of(fault).palette_name()).rgba(0.35)
}

/// The row above the plot (0 on top) that each window's label goes into, or None. Windows are
/// taken by start; a label goes into the first row where it clears the label before it, and is
/// dropped when `rows` rows are taken there (the key still names its family, the fault table the
/// fault). `x` maps seconds to the plot's pixel column.
fn label_rows(faults: &[FaultWindow], rows: usize, x: impl Fn(f64) -> i32) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].start);
    // Where the last label of each row ends.
    let mut ends: Vec<i32> = Vec::new();
    let mut placed = vec![None; faults.len()];
    for i in order {
        let w = &faults[i];
        let from = x(w.start as f64 / 1e9);
        let row = match ends.iter().position(|&end| end + LABEL_GAP <= from) {
            Some(row) => row,
            None if ends.len() < rows => {
                ends.push(from);
                ends.len() - 1
            }
            None => continue,
        };
        ends[row] = from + LABEL_CHAR * w.fault.chars().count() as i32;
        placed[i] = Some(row);
    }
    placed
}

/// A pixel position: (column, row).
type Px = (i32, i32);

/// A mark of the key, drawn at a pixel position.
type Mark<'a, DB> = Box<dyn Fn(Px) -> DynElement<'a, DB, Px> + 'a>;

/// The y axis of a time chart.
pub struct YAxis<Y> {
    /// The axis (e.g. `0f64..max`, `(lo..hi).log_scale()`).
    pub range: Y,
    /// Its lowest and highest values, the extent of the fault shades.
    pub extent: (f64, f64),
    pub desc: &'static str,
    /// Pixels left of the plot for the tick labels.
    pub label_area: u32,
}

/// A chart against the run's time, its fault windows drawn: draw the data on `plot`, name each
/// series with `key`, then `finish`.
pub struct TimeChart<'a, DB: DrawingBackend, Y: Ranged<ValueType = f64>> {
    root: DrawingArea<DB, Shift>,
    pub plot: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    top: i32,
    keys: Vec<(String, Mark<'a, DB>)>,
    fault_keys: Vec<(String, Mark<'a, DB>)>,
}

impl<'a, DB, Y> TimeChart<'a, DB, Y>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    /// Lays the chart out on `root` (filled white): fault labels in as many rows as they need
    /// above the plot, the key's gutter right of it; draws the mesh and the fault windows.
    pub fn new<R>(
        root: &DrawingArea<DB, Shift>,
        faults: &[FaultWindow],
        duration_s: f64,
        y: YAxis<R>,
    ) -> Result<Self, String>
    where
        R: AsRangedCoord<CoordDescType = Y, Value = f64>,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let x_max = duration_s.max(1.0);
        // The plot's columns as ChartBuilder lays them out, to know the rows the labels need
        // before building; laid out again on the built chart's own columns below.
        let left = f64::from(MARGIN + y.label_area);
        let width = f64::from(WIDTH - 2 * MARGIN - KEY_GUTTER - y.label_area);
        let rows = label_rows(faults, MAX_LABEL_ROWS, |t| {
            (left + t / x_max * width) as i32
        })
        .into_iter()
        .flatten()
        .max()
        .map_or(0, |r| r + 1);
        let top = MARGIN + LABEL_ROW * rows as u32;
        let mut plot = ChartBuilder::on(root)
            .margin(MARGIN)
            .margin_top(top)
            .margin_right(MARGIN + KEY_GUTTER)
            .x_label_area_size(30)
            .y_label_area_size(y.label_area)
            .build_cartesian_2d(0f64..x_max, y.range)
            .map_err(|e| e.to_string())?;
        plot.configure_mesh()
            .x_desc("seconds")
            .y_desc(y.desc)
            .draw()
            .map_err(|e| e.to_string())?;
        let mut chart = TimeChart {
            root: root.clone(),
            plot,
            top: top as i32,
            keys: Vec::new(),
            fault_keys: Vec::new(),
        };
        chart.shade_faults(faults, y.extent, rows)?;
        Ok(chart)
    }

    /// Each window shaded in its family's colour, a key entry per family present, and the
    /// windows' labels in `rows` rows above the plot.
    fn shade_faults(
        &mut self,
        faults: &[FaultWindow],
        (y0, y1): (f64, f64),
        rows: usize,
    ) -> Result<(), String> {
        for family in Family::ALL {
            let mut windows = faults
                .iter()
                .filter(|w| Family::of(&w.fault) == family)
                .peekable();
            if windows.peek().is_none() {
                continue;
            }
            let colour = family.colour();
            self.plot
                .draw_series(windows.map(|w| {
                    Rectangle::new(
                        [(w.start as f64 / 1e9, y0), (w.end as f64 / 1e9, y1)],
                        colour.mix(SHADE).filled(),
                    )
                }))
                .map_err(|e| e.to_string())?;
            self.fault_keys.push((
                family.name().to_owned(),
                Box::new(move |(x, y)| {
                    Rectangle::new([(x - 6, y - 5), (x + 6, y + 5)], colour.mix(0.4).filled())
                        .into_dyn()
                }),
            ));
        }
        let x = |t: f64| self.plot.backend_coord(&(t, y0)).0;
        for (w, row) in faults.iter().zip(label_rows(faults, rows, x)) {
            let Some(row) = row else { continue };
            let at = (
                x(w.start as f64 / 1e9),
                (MARGIN + LABEL_ROW * row as u32) as i32,
            );
            let font = ("sans-serif", LABEL_FONT)
                .into_font()
                .color(&Family::of(&w.fault).ink());
            self.root
                .draw(&Text::new(w.fault.clone(), at, font))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Names a series in the key, with the mark it is drawn with.
    pub fn key(
        &mut self,
        label: impl Into<String>,
        mark: impl Fn(Px) -> DynElement<'a, DB, Px> + 'a,
    ) {
        self.keys.push((label.into(), Box::new(mark)));
    }

    /// Draws the key right of the plot: the series, then the fault families.
    pub fn finish(self) -> Result<(), String> {
        let left = (WIDTH - KEY_GUTTER) as i32;
        let font = ("sans-serif", 12)
            .into_font()
            .into_text_style(&self.root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (label, mark)) in self.keys.iter().chain(&self.fault_keys).enumerate() {
            let y = self.top + KEY_ROW / 2 + KEY_ROW * i as i32;
            self.root
                .draw(&mark((left + 8, y)))
                .map_err(|e| e.to_string())?;
            self.root
                .draw(&Text::new(label.as_str(), (left + 20, y), &font))
                .map_err(|e| e.to_string())?;
        }
        self.root.present().map_err(|e| e.to_string())
    }
}

/// A line series' mark in the key.
pub fn line_mark<'a, DB: DrawingBackend + 'a>(
    colour: RGBColor,
) -> impl Fn(Px) -> DynElement<'a, DB, Px> + 'a {
    move |(x, y)| PathElement::new(vec![(x - 7, y), (x + 7, y)], colour.stroke_width(2)).into_dyn()
}
