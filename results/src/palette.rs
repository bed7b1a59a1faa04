//! Every colour a page uses, in one place, so the same thing has the same colour in every
//! report, chart and page: a read is always blue, a process fault always red, `async` the same
//! hue on the campaign page as on `compare`. Charts (plotters) and pages (CSS, the explorer's
//! JavaScript) both take their colours from here.

/// A colour as red, green, blue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for CSS and SVG.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// `rgba(r, g, b, alpha)`, for shades.
    pub fn rgba(self, alpha: f64) -> String {
        format!("rgba({}, {}, {}, {alpha})", self.0, self.1, self.2)
    }

    /// The same hue darkened, for text drawn in it on white.
    pub fn ink(self) -> Rgb {
        let dark = |c: u8| (u16::from(c) * 7 / 10) as u8;
        Rgb(dark(self.0), dark(self.1), dark(self.2))
    }
}

/// The colour of an operation type (a series on every chart): fixed per name, never by the order
/// in which a run happened to meet them.
pub fn operation(f: &str) -> Rgb {
    match f {
        "read" => Rgb(31, 119, 180),
        "write" => Rgb(44, 160, 44),
        "cas" => Rgb(140, 86, 75),
        "append" => Rgb(227, 119, 194),
        "add" => Rgb(188, 189, 34),
        _ => Rgb(127, 127, 127),
    }
}

/// How an operation ended, for the explorer's bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeColour {
    Ok,
    Fail,
    Info,
    /// A cas that was answered and refused on its merits (the value did not match).
    Rejected,
}

pub fn outcome(o: OutcomeColour) -> Rgb {
    match o {
        OutcomeColour::Ok => Rgb(76, 145, 65),
        OutcomeColour::Fail => Rgb(170, 170, 170),
        OutcomeColour::Info => Rgb(255, 127, 14),
        OutcomeColour::Rejected => Rgb(148, 103, 189),
    }
}

/// A night of the trends' verdict strips: passed, failed its expectation, cut short, not run.
pub const NIGHT_PASS: Rgb = Rgb(76, 145, 65);
pub const NIGHT_FAIL: Rgb = Rgb(200, 0, 0);
pub const NIGHT_INTERRUPTED: Rgb = Rgb(230, 171, 2);
pub const NIGHT_MISSING: Rgb = Rgb(225, 225, 225);
/// A figure the trends mark as regressed.
pub const REGRESSION: Rgb = Rgb(200, 0, 0);

/// The operation a counterexample cannot linearize.
pub const BLOCKED: Rgb = Rgb(200, 0, 0);
/// The order the checker found before it got stuck.
pub const LINEARIZED: Rgb = Rgb(44, 160, 44);
/// Operations concurrent with the blocked one.
pub const CONCURRENT: Rgb = Rgb(255, 127, 14);
/// Everything else drawn for context.
pub const CONTEXT: Rgb = Rgb(160, 160, 160);

/// The family a fault belongs to, as `fault_family` names it: a kill or pause acts on a
/// process, a partition or delay on the network.
pub fn family_of_fault(fault: &str) -> &'static str {
    match fault {
        "kill" | "pause" => "process",
        "partition" | "delay" => "network",
        "clock" => "clock",
        _ => "other",
    }
}

/// A fault family's shade (and, through `ink`, its labels). Hues away from the series colours,
/// so that a shade never reads as a data series.
pub fn fault_family(family: &str) -> Rgb {
    match family {
        "process" => Rgb(214, 39, 40),
        "network" => Rgb(23, 160, 190),
        "clock" => Rgb(188, 170, 20),
        _ => Rgb(120, 120, 120),
    }
}

/// Series that are not operation types (nodes, option values such as replication modes): by
/// their rank in a fixed order (nodes by id, option values in the order their definition lists
/// them), so `async` is the same colour on every page that shows it.
///
/// Hues apart from the operation colours (ColorBrewer's Dark2): the comparison page draws read
/// and write latency bars beside bars coloured by mode, and a mode the colour of `read` would
/// read as one.
pub const SERIES: [Rgb; 8] = [
    Rgb(117, 112, 179),
    Rgb(217, 95, 2),
    Rgb(27, 158, 119),
    Rgb(231, 41, 138),
    Rgb(230, 171, 2),
    Rgb(102, 166, 30),
    Rgb(166, 118, 29),
    Rgb(102, 102, 102),
];

pub fn series(rank: usize) -> Rgb {
    SERIES[rank % SERIES.len()]
}

impl From<Rgb> for plotters::style::RGBColor {
    fn from(Rgb(r, g, b): Rgb) -> Self {
        plotters::style::RGBColor(r, g, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_ink() {
        assert_eq!(Rgb(31, 119, 180).hex(), "#1f77b4");
        assert_eq!(Rgb(100, 10, 0).ink(), Rgb(70, 7, 0));
        assert_eq!(operation("read"), operation("read"));
        assert_ne!(operation("read"), operation("write"));
        assert_eq!(series(8), series(0));
    }

    #[test]
    fn series_never_take_an_operation_colour() {
        for rank in 0..SERIES.len() {
            for f in ["read", "write", "cas", "append", "add"] {
                assert_ne!(series(rank), operation(f), "series {rank} looks like {f}");
            }
        }
    }
}
