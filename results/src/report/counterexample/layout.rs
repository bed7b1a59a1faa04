//! Where everything of the counterexample chart goes, in pixels: no SVG here, so that what a
//! reader must be able to see (every bar at least `MIN_BAR` wide, no two labels over each other)
//! is checked on numbers.
//!
//! The time axis keeps the order of events, not their proportions: the ops of one window are far
//! apart in length (0.3 ms writes beside 620 ms reads), and on a linear axis the short ones are
//! invisible. Every interval between two consecutive event times (an invocation, a completion, a
//! fault's start or end) gets at least `MIN_GAP` pixels, and the width left over is shared in
//! proportion to the logarithm of each interval's length. Every bar spans at least one interval,
//! so none is narrower than `MIN_GAP`, whatever its length; the chart says so under its axis.

/// The chart's width, as the report's other charts.
pub const WIDTH: f64 = 960.0;
/// Left of the plot: the lane names.
pub const PLOT_LEFT: f64 = 88.0;
pub const PLOT_RIGHT: f64 = WIDTH - 14.0;
/// The least width of an interval between two events, hence of a bar.
pub const MIN_GAP: f64 = 6.0;
/// Drawn no narrower than this even if its ends fall on one event time.
pub const MIN_BAR: f64 = 6.0;
/// Intervals are weighed by ln(1 + length / LOG_UNIT): shorter than this counts for little.
const LOG_UNIT_NS: f64 = 10_000.0;

/// Labels are drawn in a monospace font of `FONT` px, whose glyphs are 0.6 em wide; `CHAR` is a
/// little more, so that an estimate never falls short of what a browser draws.
pub const FONT: f64 = 11.0;
pub const CHAR: f64 = 7.0;
/// Space kept after a label.
const LABEL_GAP: f64 = 5.0;
/// A label with room for fewer characters than this is hidden (its `<title>` still says it).
const MIN_CHARS: usize = 4;

/// A fault window's header row above the lanes.
pub const FAULT_ROW: f64 = 16.0;
/// A lane: a label row, the bar, a second label row.
pub const LANE: f64 = 46.0;
const BAR_TOP: f64 = 15.0;
pub const BAR_HEIGHT: f64 = 15.0;
/// Baselines of the two label rows, from the lane's top.
const ROW_BASELINES: [f64; 2] = [12.0, BAR_TOP + BAR_HEIGHT + 12.0];
/// Below the lanes: ticks and their times, the axis note and the key.
const AXIS: f64 = 78.0;
/// A linearization badge's radius; two badges in a lane closer than this twice are drawn as dots.
pub const BADGE: f64 = 7.0;

/// One operation to place.
#[derive(Debug, Clone)]
pub struct Item {
    /// The lane (process) it belongs to.
    pub lane: u64,
    /// Nanoseconds since the run started.
    pub start: u64,
    /// `None`: never answered (drawn to the right edge).
    pub end: Option<u64>,
    pub label: String,
}

/// A stretch of time shaded across the lanes (a fault in force).
#[derive(Debug, Clone)]
pub struct Band {
    pub start: u64,
    pub end: u64,
    pub label: String,
}

/// The order of the longest linearization found, as indices into the items.
pub type Order = [usize];

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub x: f64,
    /// Baseline.
    pub y: f64,
    pub text: String,
}

impl Text {
    /// The box it is estimated to cover: x from, x to, y top, y bottom.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let width = self.text.chars().count() as f64 * CHAR;
        (self.x, self.x + width, self.y - FONT, self.y + 3.0)
    }
}

#[derive(Debug, Clone)]
pub struct BarBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    /// Its label, truncated to the room it has; `None` when there is none.
    pub label: Option<Text>,
    /// It ends at the right edge because it was never answered.
    pub open: bool,
}

#[derive(Debug, Clone)]
pub struct BandBox {
    pub x: f64,
    pub width: f64,
    /// Its header row.
    pub row_y: f64,
    /// Its label, with an arrow in front when the fault began before the window.
    pub label: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct Badge {
    pub x: f64,
    pub y: f64,
    /// 1-based position in the order drawn; `None`: too close to the previous badge of its lane
    /// for a number, drawn as a dot.
    pub number: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub height: f64,
    /// Lane name and the top of its lane, in lane order.
    pub lanes: Vec<(u64, f64)>,
    pub lanes_top: f64,
    pub lanes_bottom: f64,
    pub bars: Vec<BarBox>,
    pub bands: Vec<BandBox>,
    /// The linearization points in order (centre of their bar).
    pub badges: Vec<Badge>,
    /// Every event time's x, and the labelled ones' text.
    pub ticks: Vec<f64>,
    pub tick_labels: Vec<Text>,
    /// The y of the axis line.
    pub axis_y: f64,
}

/// Event times to x: piecewise linear through `(times[i], xs[i])`.
#[derive(Debug, Clone)]
pub struct Axis {
    times: Vec<u64>,
    xs: Vec<f64>,
}

impl Axis {
    /// An axis over `times` (any order, repeats allowed) from `left` to `right`.
    pub fn new(times: impl IntoIterator<Item = u64>, left: f64, right: f64) -> Axis {
        let mut times: Vec<u64> = times.into_iter().collect();
        times.sort_unstable();
        times.dedup();
        let gaps = times.len().saturating_sub(1);
        if gaps == 0 {
            let xs = times.iter().map(|_| left).collect();
            return Axis { times, xs };
        }
        let span = right - left;
        let min = MIN_GAP.min(span / gaps as f64);
        let weights: Vec<f64> = times
            .windows(2)
            .map(|w| (1.0 + (w[1] - w[0]) as f64 / LOG_UNIT_NS).ln())
            .collect();
        let total: f64 = weights.iter().sum();
        let spare = span - min * gaps as f64;
        let mut xs = Vec::with_capacity(times.len());
        let mut x = left;
        xs.push(x);
        for w in weights {
            let share = if total > 0.0 {
                spare * w / total
            } else {
                spare / gaps as f64
            };
            x += min + share;
            xs.push(x);
        }
        Axis { times, xs }
    }

    /// The x of `t`: exact at event times, interpolated between them, clamped outside.
    pub fn x(&self, t: u64) -> f64 {
        match self.times.binary_search(&t) {
            Ok(i) => self.xs[i],
            Err(0) => self.xs.first().copied().unwrap_or(PLOT_LEFT),
            Err(i) if i >= self.times.len() => self.xs.last().copied().unwrap_or(PLOT_LEFT),
            Err(i) => {
                let (t0, t1) = (self.times[i - 1] as f64, self.times[i] as f64);
                let f = (t as f64 - t0) / (t1 - t0);
                self.xs[i - 1] + f * (self.xs[i] - self.xs[i - 1])
            }
        }
    }

    pub fn points(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.times.iter().copied().zip(self.xs.iter().copied())
    }
}

/// `text` cut to `room` pixels: whole, or shortened with an ellipsis, or `None` when fewer than
/// `MIN_CHARS` characters fit.
pub fn fit(text: &str, room: f64) -> Option<String> {
    let fits = (room / CHAR).floor().max(0.0) as usize;
    let len = text.chars().count();
    if len <= fits {
        Some(text.to_owned())
    } else if fits >= MIN_CHARS {
        Some(text.chars().take(fits - 1).chain(['…']).collect())
    } else {
        None
    }
}

/// Places items in lanes (in `lanes` order), bands in header rows above them (cut to the items'
/// window), the order's badges, and the axis's ticks. Never-answered items run past the last
/// event, to the right edge.
pub fn layout(
    items: &[Item],
    bands: &[Band],
    order: &Order,
    lanes: &[u64],
    tick_label: impl Fn(u64) -> String,
) -> Layout {
    // The window is the items'; bands are cut to it.
    let last = items
        .iter()
        .flat_map(|i| [Some(i.start), i.end])
        .flatten()
        .max()
        .unwrap_or(0);
    let first = items.iter().map(|i| i.start).min().unwrap_or(0);
    // Never-answered ops run past the last event, by a tenth of the window.
    let open_end = last + ((last - first) / 10).max(1_000_000);
    let any_open = items.iter().any(|i| i.end.is_none());
    let window_end = if any_open { open_end } else { last };
    let times = items
        .iter()
        .flat_map(|i| [i.start, i.end.unwrap_or(open_end)])
        .chain(
            bands
                .iter()
                .flat_map(|b| [b.start.max(first), b.end.min(window_end)]),
        );
    // Room left of the first bar for its badge, clear of the lane names.
    let axis = Axis::new(times, PLOT_LEFT + BADGE + 2.0, PLOT_RIGHT);

    let lanes_top = 4.0 + FAULT_ROW * bands.len() as f64 + 4.0;
    let lane_top = |lane: u64| {
        let i = lanes.iter().position(|&l| l == lane).unwrap_or(0);
        lanes_top + LANE * i as f64
    };
    let lanes_bottom = lanes_top + LANE * lanes.len() as f64;

    let mut bars: Vec<BarBox> = items
        .iter()
        .map(|item| {
            let x = axis.x(item.start);
            let end = axis.x(item.end.unwrap_or(open_end));
            BarBox {
                x,
                y: lane_top(item.lane) + BAR_TOP,
                width: (end - x).max(MIN_BAR),
                label: None,
                open: item.end.is_none(),
            }
        })
        .collect();
    for &lane in lanes {
        place_labels(items, &mut bars, lane, lane_top(lane));
    }

    let bands = bands
        .iter()
        .enumerate()
        .map(|(row, band)| {
            let x = axis.x(band.start.max(first));
            let width = (axis.x(band.end.min(window_end)) - x).max(2.0);
            let cut_left = band.start < first;
            let text = if cut_left {
                format!("← {}", band.label)
            } else {
                band.label.clone()
            };
            let row_y = 4.0 + FAULT_ROW * row as f64;
            // A label may run past its band's end (to the plot's right edge): each band has a
            // row of its own, so nothing is under it.
            let label = fit(&text, PLOT_RIGHT - x - 3.0).map(|text| Text {
                x: x + 3.0,
                y: row_y + 12.0,
                text,
            });
            BandBox {
                x,
                width,
                row_y,
                label,
            }
        })
        .collect();

    let badges = badges(items, &bars, order, &axis, open_end);

    let axis_y = lanes_bottom + 2.0;
    let points: Vec<(u64, f64)> = axis.points().collect();
    let ticks = points.iter().map(|&(_, x)| x).collect();
    let mut tick_labels: Vec<Text> = Vec::new();
    let mut free_from = f64::NEG_INFINITY;
    for &(t, x) in &points {
        if any_open && t == open_end {
            continue;
        }
        let text = tick_label(t);
        let width = text.chars().count() as f64 * CHAR;
        // Centred under the tick, inside the chart.
        let from = (x - width / 2.0).clamp(2.0, WIDTH - width - 2.0);
        if from >= free_from {
            free_from = from + width + 2.0 * LABEL_GAP;
            tick_labels.push(Text {
                x: from,
                y: axis_y + 18.0,
                text,
            });
        }
    }

    Layout {
        height: axis_y + AXIS,
        lanes: lanes.iter().map(|&l| (l, lane_top(l))).collect(),
        lanes_top,
        lanes_bottom,
        bars,
        bands,
        badges,
        ticks,
        tick_labels,
        axis_y,
    }
}

/// Labels of one lane, in two rows (above and below the bars). An item takes the upper row with
/// its whole text when that ends before the next item starts; otherwise a free row, cut to end
/// before the item after next (the last item's may start left of its bar instead of being cut). Either way, at the next item one row is free again (an item in
/// row r ends before x[i+2], or before x[i+1] in the first case), so every item gets a row and no
/// two labels meet.
fn place_labels(items: &[Item], bars: &mut [BarBox], lane: u64, top: f64) {
    let mut mine: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].lane == lane)
        .collect();
    mine.sort_by(|&a, &b| bars[a].x.total_cmp(&bars[b].x));
    let xs: Vec<f64> = mine.iter().map(|&i| bars[i].x).collect();
    let limit = |k: usize| xs.get(k).copied().unwrap_or(PLOT_RIGHT + LABEL_GAP) - LABEL_GAP;
    let mut free_from = [f64::NEG_INFINITY; 2];
    for (k, &i) in mine.iter().enumerate() {
        let x = xs[k];
        let text = &items[i].label;
        let whole = text.chars().count() as f64 * CHAR;
        let (row, room) = if free_from[0] <= x && x + whole <= limit(k + 1) {
            (0, limit(k + 1) - x)
        } else if let Some(row) = (0..2).find(|&r| free_from[r] <= x) {
            (row, limit(k + 2) - x)
        } else {
            continue;
        };
        // The lane's last label may start left of its bar, up to its row's free point, rather
        // than be cut at the right edge: the op that cannot be linearized is always its lane's
        // last, and often near the edge.
        let (x, room) = if k + 1 == mine.len() && whole > room {
            let from = (PLOT_RIGHT - whole)
                .max(free_from[row])
                .max(PLOT_LEFT)
                .min(x);
            (from, PLOT_RIGHT - from)
        } else {
            (x, room)
        };
        if let Some(text) = fit(text, room) {
            let label = Text {
                x,
                y: top + ROW_BASELINES[row],
                text,
            };
            free_from[row] = label.extent().1 + LABEL_GAP;
            bars[i].label = Some(label);
        }
    }
}

/// Porcupine's partial linearization: a point in each op's interval, in order and never going
/// back in time (the order respects real time, so the latest invocation so far always lies
/// within the next op's interval). Numbered where the lane has room, a dot otherwise.
fn badges(
    items: &[Item],
    bars: &[BarBox],
    order: &Order,
    axis: &Axis,
    open_end: u64,
) -> Vec<Badge> {
    let mut out: Vec<Badge> = Vec::new();
    let mut at = f64::NEG_INFINITY;
    let mut last_in_lane: Vec<(u64, f64)> = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        let (item, bar) = (&items[i], &bars[i]);
        let end = axis.x(item.end.unwrap_or(open_end)).max(bar.x + bar.width);
        // A little after the previous point where the bar allows, so the path moves forward.
        let x = (bar.x.max(at + 2.0))
            .min(end)
            .max(bar.x + 2.0)
            .min(bar.x + bar.width);
        at = at.max(x);
        let previous = last_in_lane
            .iter()
            .find(|(l, _)| *l == item.lane)
            .map(|(_, x)| *x);
        let number = match previous {
            Some(p) if x - p < 2.0 * BADGE + 1.0 => None,
            _ => Some(n + 1),
        };
        if number.is_some() {
            last_in_lane.retain(|(l, _)| *l != item.lane);
            last_in_lane.push((item.lane, x));
        }
        out.push(Badge {
            x,
            y: bar.y + BAR_HEIGHT / 2.0,
            number,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(lane: u64, start_ms: f64, end_ms: Option<f64>, label: &str) -> Item {
        let ns = |ms: f64| (ms * 1e6) as u64;
        Item {
            lane,
            start: ns(start_ms),
            end: end_ms.map(ns),
            label: label.to_owned(),
        }
    }

    /// The shape of the quickstart async counterexample: 620 ms reads on seven lanes, 0.3 ms
    /// writes and cas on one, one never answered.
    fn window() -> Vec<Item> {
        let mut items = Vec::new();
        for p in 0..7u64 {
            items.push(item(
                p,
                2049.0 + p as f64,
                Some(2674.0 + p as f64),
                &format!("read r → 1826 #{}", 5600 + p),
            ));
        }
        let mut t = 2050.0;
        for k in 0..12 {
            items.push(item(
                7,
                t,
                Some(t + 0.3),
                &format!("write r {} #{}", 1830 + k, 5610 + k),
            ));
            t += 0.35;
        }
        items.push(item(8, 2060.0, None, "write r 1850 → ? #5700"));
        items
    }

    fn laid_out(items: &[Item]) -> Layout {
        let mut lanes: Vec<u64> = items.iter().map(|i| i.lane).collect();
        lanes.sort_unstable();
        lanes.dedup();
        let bands = vec![
            Band {
                start: 1_000_000_000,
                end: 3_000_000_000,
                label: "partition halves: n1 | n2 n3 (leader n1)".to_owned(),
            },
            Band {
                start: 2_052_000_000,
                end: 2_300_000_000,
                label: "clock n1 bump -3120 ms".to_owned(),
            },
        ];
        let order: Vec<usize> = (7..19).collect();
        layout(items, &bands, &order, &lanes, |t| {
            format!("{:.6}", t as f64 / 1e9)
        })
    }

    fn overlap(a: &Text, b: &Text) -> bool {
        let (ax0, ax1, ay0, ay1) = a.extent();
        let (bx0, bx1, by0, by1) = b.extent();
        ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1
    }

    #[test]
    fn no_two_labels_overlap() {
        let items = window();
        let l = laid_out(&items);
        let mut texts: Vec<&Text> = l.bars.iter().filter_map(|b| b.label.as_ref()).collect();
        texts.extend(l.bands.iter().filter_map(|b| b.label.as_ref()));
        texts.extend(&l.tick_labels);
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert!(!overlap(a, b), "{a:?} overlaps {b:?}");
            }
            assert!(a.extent().1 <= WIDTH, "{a:?} runs off the chart");
        }
        // The short writes share their lane's two rows: most of them keep a label.
        let written = l.bars[7..19].iter().filter(|b| b.label.is_some()).count();
        assert!(written >= 6, "{written} of 12 write labels drawn");
    }

    #[test]
    fn every_bar_is_visible_whatever_its_length() {
        let items = window();
        let l = laid_out(&items);
        for (item, bar) in items.iter().zip(&l.bars) {
            assert!(bar.width >= MIN_BAR, "{} is {} px", item.label, bar.width);
            assert!(bar.x >= PLOT_LEFT && bar.x + bar.width <= PLOT_RIGHT + MIN_BAR);
        }
        // A 0.3 ms write next to 620 ms reads, alone in its window.
        let lone = vec![
            item(0, 0.0, Some(620.0), "read r → 1 #1"),
            item(1, 300.0, Some(300.0003), "write r 2 #2"),
        ];
        let l = layout(&lone, &[], &[], &[0, 1], |t| t.to_string());
        assert!(l.bars[1].width >= MIN_BAR);
        // Order kept: the write starts within the read.
        assert!(l.bars[1].x > l.bars[0].x && l.bars[1].x < l.bars[0].x + l.bars[0].width);
    }

    #[test]
    fn the_last_label_of_a_lane_moves_left_rather_than_be_cut_at_the_edge() {
        let items = vec![
            item(0, 0.0, Some(600.0), "read r → 1 #1"),
            item(1, 599.99, Some(600.0), "cas k8 29146→29190 from n3 #87938"),
        ];
        let l = layout(&items, &[], &[], &[0, 1], |t| t.to_string());
        let label = l.bars[1].label.as_ref().expect("a label");
        assert_eq!(label.text, "cas k8 29146→29190 from n3 #87938");
        assert!(label.extent().1 <= PLOT_RIGHT);
        assert!(label.x < l.bars[1].x);
    }

    #[test]
    fn labels_are_cut_or_hidden_never_squeezed() {
        assert_eq!(
            fit("read r → 1826 #5646", 1000.0).as_deref(),
            Some("read r → 1826 #5646")
        );
        let cut = fit("read r → 1826 #5646", 8.0 * CHAR).expect("room for 8");
        assert_eq!(cut.chars().count(), 8);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("read r → 1826 #5646", 2.0 * CHAR), None);
    }

    #[test]
    fn the_order_moves_forward_through_each_ops_interval() {
        let items = window();
        let l = laid_out(&items);
        let order: Vec<usize> = (7..19).collect();
        let mut previous = f64::NEG_INFINITY;
        for (badge, &i) in l.badges.iter().zip(&order) {
            let bar = &l.bars[i];
            assert!(
                badge.x >= bar.x && badge.x <= bar.x + bar.width,
                "{badge:?} {bar:?}"
            );
            assert!(badge.x >= previous);
            previous = badge.x;
        }
        assert_eq!(l.badges[0].number, Some(1));
    }

    #[test]
    fn a_band_that_began_earlier_says_so() {
        let l = laid_out(&window());
        let label = l.bands[0].label.as_ref().expect("room for the label");
        assert!(label.text.starts_with("← partition"));
        let second = l.bands[1].label.as_ref().expect("room for the label");
        assert!(second.text.starts_with("clock"));
    }
}
