//! What every comparison chart shares: one column per compared value (a replication mode), its
//! name under it in its colour, a y axis, marks placed by column (bars, a run's dots, a box),
//! numbers above them and notes where a column has nothing to draw; and the SVG document
//! carrying the chart's id and title, so a page, a reader's screen reader and a test can tell
//! the charts apart.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::markup::escape;
use crate::palette::Rgb;
use crate::report::ChartError;

/// A chart's size: two side by side fill the page (a wide one is twice as wide).
pub const WIDTH: u32 = 520;
pub const HEIGHT: u32 = 280;

/// The grey of notes ("no failover measured").
const NOTE: RGBColor = RGBColor(110, 110, 110);

/// A chart as the page shows it.
pub struct Chart {
    /// The figure's id; its SVG element's is `chart-<id>`.
    pub id: &'static str,
    /// What to read in it, in one line.
    pub caption: String,
    /// Whether it takes the page's whole width (two charts fit side by side otherwise).
    pub wide: bool,
    pub svg: String,
}

/// An SVG document of `width` × `height` drawn by `draw`, with `id` and `title` written into
/// it (plotters writes neither).
pub fn svg_document(
    id: &'static str,
    title: &str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, ChartError> {
    let err = |message: String| ChartError { chart: id, message };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        draw(&root).map_err(err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let open = svg.find('>').map_or(0, |at| at + 1);
    let head = svg[..open].replacen("<svg ", &format!("<svg id=\"chart-{id}\" role=\"img\" "), 1);
    Ok(format!(
        "{head}<title>{}</title>{}",
        escape(title),
        &svg[open..]
    ))
}

/// The y axis of a chart.
pub struct YAxis<R> {
    /// The axis (`0f64..max`, `(lo..hi).log_scale()`).
    pub range: R,
    /// Its lowest value: where bars start.
    pub floor: f64,
    pub desc: &'static str,
    /// How a tick is written.
    pub format: fn(&f64) -> String,
}

/// A chart with a column per compared value.
pub struct Frame<'a, DB: DrawingBackend, Y: Ranged<ValueType = f64>> {
    pub plot: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    floor: f64,
}

impl<'a, DB, Y> Frame<'a, DB, Y>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    /// Lays the chart out on `area`, `caption` above it, a column per `(name, colour)` with
    /// its name under it.
    pub fn new<R>(
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        columns: &[(String, Rgb)],
        y: YAxis<R>,
    ) -> Result<Self, String>
    where
        R: AsRangedCoord<CoordDescType = Y, Value = f64>,
    {
        let n = columns.len().max(1) as f64;
        let mut plot = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 15))
            .margin(8)
            .margin_right(14)
            .x_label_area_size(26)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.5..n - 0.5, y.range)
            .map_err(|e| e.to_string())?;
        plot.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&y.format)
            .y_desc(y.desc)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        let frame = Frame {
            plot,
            floor: y.floor,
        };
        // As large as the narrowest column lets the longest name be (~0.6 em a character).
        let column_px = frame.at(1, 0.0, frame.floor).0 - frame.at(0, 0.0, frame.floor).0;
        let longest = columns.iter().map(|(n, _)| n.chars().count()).max();
        let size = (f64::from(column_px - 4) / (0.6 * longest.unwrap_or(1).max(1) as f64))
            .clamp(8.0, 13.0);
        let font = TextStyle::from(("sans-serif", size).into_font().style(FontStyle::Bold))
            .pos(Pos::new(HPos::Center, VPos::Top));
        // `at` is in the whole document's pixels, `area` (a panel) may start further in.
        let (x0, y0) = area.get_base_pixel();
        for (i, (name, colour)) in columns.iter().enumerate() {
            let (x, y) = frame.at(i, 0.0, frame.floor);
            let ink: RGBColor = colour.ink().into();
            let at = (x - x0, y + 6 - y0);
            area.draw(&Text::new(name.clone(), at, font.color(&ink)))
                .map_err(|e| e.to_string())?;
        }
        Ok(frame)
    }

    /// The pixel of `value` at `offset` columns right of column `column`'s centre.
    fn at(&self, column: usize, offset: f64, value: f64) -> (i32, i32) {
        self.plot.backend_coord(&(column as f64 + offset, value))
    }

    /// A bar in column `column` from `from` to `to` columns off its centre, up to `value`.
    pub fn bar(
        &mut self,
        column: usize,
        (from, to): (f64, f64),
        value: f64,
        colour: Rgb,
    ) -> Result<(), String> {
        let c: RGBColor = colour.into();
        let x = column as f64;
        let corners = [(x + from, self.floor), (x + to, value.max(self.floor))];
        self.plot
            .draw_series([
                Rectangle::new(corners, c.mix(0.75).filled()),
                Rectangle::new(corners, c.stroke_width(1)),
            ])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// One dot per value in column `column` around `centre` columns off its centre, spread
    /// sideways (evenly, not at random: the same data draws the same picture) so equal values
    /// stay countable.
    pub fn dots(
        &mut self,
        column: usize,
        centre: f64,
        values: &[f64],
        colour: Rgb,
    ) -> Result<(), String> {
        let ink: RGBColor = colour.ink().into();
        let x = column as f64 + centre;
        let spread = 0.12;
        self.plot
            .draw_series(values.iter().enumerate().map(|(j, v)| {
                // The golden ratio's fractions fill the interval evenly whatever the count.
                let off = ((j as f64 * 0.618_034).fract() - 0.5) * 2.0 * spread;
                Circle::new((x + off, v.max(self.floor)), 3, ink.filled())
            }))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A box of `values` in column `column` (quartiles, median, whiskers to the extremes).
    pub fn boxplot(&mut self, column: usize, values: &[f64], colour: Rgb) -> Result<(), String> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let Some((&lo, &hi)) = v.first().zip(v.last()) else {
            return Ok(());
        };
        let q = |p: f64| quantile(&v, p);
        let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
        let c: RGBColor = colour.into();
        let x = column as f64;
        let w = 0.22;
        let line =
            |points: Vec<(f64, f64)>, width: u32| PathElement::new(points, c.stroke_width(width));
        self.plot
            .draw_series([Rectangle::new(
                [(x - w, q1), (x + w, q3)],
                c.mix(0.18).filled(),
            )])
            .map_err(|e| e.to_string())?;
        self.plot
            .draw_series([
                line(
                    vec![
                        (x - w, q1),
                        (x + w, q1),
                        (x + w, q3),
                        (x - w, q3),
                        (x - w, q1),
                    ],
                    1,
                ),
                line(vec![(x - w, median), (x + w, median)], 3),
                line(vec![(x, lo), (x, q1)], 1),
                line(vec![(x, q3), (x, hi)], 1),
                line(vec![(x - w / 2.0, lo), (x + w / 2.0, lo)], 1),
                line(vec![(x - w / 2.0, hi), (x + w / 2.0, hi)], 1),
            ])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// `text` centred above `value` at `offset` columns off column `column`'s centre.
    pub fn label(
        &mut self,
        column: usize,
        offset: f64,
        value: f64,
        text: String,
    ) -> Result<(), String> {
        let (x, y) = self.at(column, offset, value.max(self.floor));
        let font = TextStyle::from(("sans-serif", 12).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        self.plot
            .plotting_area()
            .strip_coord_spec()
            .draw(&Text::new(
                text,
                (x - self.left(), y - 3 - self.top()),
                font,
            ))
            .map_err(|e| e.to_string())
    }

    /// A note in grey across column `column`, at mid-height: why it has nothing drawn.
    pub fn note(&mut self, column: usize, text: &str) -> Result<(), String> {
        let (x, _) = self.at(column, 0.0, self.floor);
        let rows = self.plot.plotting_area().get_pixel_range().1;
        let (top, bottom) = (rows.start, rows.end);
        let font = ("sans-serif", 11)
            .into_font()
            .color(&NOTE)
            .pos(Pos::new(HPos::Center, VPos::Center));
        self.plot
            .plotting_area()
            .strip_coord_spec()
            .draw(&Text::new(
                text.to_owned(),
                (x - self.left(), (top + bottom) / 2 - self.top()),
                font,
            ))
            .map_err(|e| e.to_string())
    }

    fn left(&self) -> i32 {
        self.plot.plotting_area().get_pixel_range().0.start
    }

    fn top(&self) -> i32 {
        self.plot.plotting_area().get_pixel_range().1.start
    }
}

/// The `p` quantile of sorted `v` (linear between ranks), `v` not empty.
fn quantile(v: &[f64], p: f64) -> f64 {
    let at = p * (v.len() - 1) as f64;
    let (i, frac) = (at.floor() as usize, at.fract());
    match v.get(i + 1) {
        Some(next) => v[i] + (next - v[i]) * frac,
        None => v[i],
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_of_one_and_of_several() {
        assert_eq!(quantile(&[2.0], 0.25), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[1.0, 2.0], 0.5), 1.5);
    }
}
