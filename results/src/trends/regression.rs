//! The regression rule: a night's figure is marked when it moved, in the worse direction,
//! beyond the noise of the nights before it — further from their median than `K_MAD` scaled
//! median absolute deviations (1.4826 × MAD estimates the standard deviation of normal noise,
//! so the band is about ±3 σ, and one wild night among the previous ones does not widen it as
//! it would a standard deviation) and by more than `MIN_RELATIVE` of the median (so a figure
//! that never moved is not marked for a jitter of a fraction of a percent). It looks at up to
//! `WINDOW` previous nights that measured the figure and marks nothing before `MIN_NIGHTS` of
//! them exist.

/// Scaled MADs a figure must move by.
pub const K_MAD: f64 = 3.0;
/// The MAD's scale to a normal distribution's standard deviation.
const MAD_SCALE: f64 = 1.4826;
/// The smallest move marked, relative to the median.
pub const MIN_RELATIVE: f64 = 0.10;
/// Previous nights a figure is compared with.
pub const WINDOW: usize = 14;
/// Nights needed before anything is marked.
pub const MIN_NIGHTS: usize = 5;

/// Which way a figure gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    Up,
    Down,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// For each night, whether its value is a regression against the nights before it.
pub fn regressions(values: &[Option<f64>], worse: Worse) -> Vec<bool> {
    let mut marks = vec![false; values.len()];
    let mut previous: Vec<f64> = Vec::new();
    let mut window: Vec<f64> = Vec::with_capacity(WINDOW);
    let mut deviations: Vec<f64> = Vec::with_capacity(WINDOW);
    for (i, value) in values.iter().enumerate() {
        let Some(x) = value.filter(|v| v.is_finite()) else {
            continue;
        };
        if previous.len() >= MIN_NIGHTS {
            window.clear();
            window.extend_from_slice(&previous[previous.len().saturating_sub(WINDOW)..]);
            window.sort_by(f64::total_cmp);
            let m = median(&window);
            deviations.clear();
            deviations.extend(window.iter().map(|v| (v - m).abs()));
            deviations.sort_by(f64::total_cmp);
            let noise = K_MAD * MAD_SCALE * median(&deviations);
            let moved = match worse {
                Worse::Up => x - m,
                Worse::Down => m - x,
            };
            marks[i] = moved > noise && moved > MIN_RELATIVE * m.abs();
        }
        previous.push(x);
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_beyond_the_noise_is_marked_only_the_worse_way() {
        let mut v: Vec<Option<f64>> = [100.0, 102.0, 98.0, 101.0, 99.0, 100.0]
            .into_iter()
            .map(Some)
            .collect();
        v.push(Some(200.0));
        v.push(Some(40.0));
        let up = regressions(&v, Worse::Up);
        assert_eq!(up, [false, false, false, false, false, false, true, false]);
        let down = regressions(&v, Worse::Down);
        assert_eq!(
            down,
            [false, false, false, false, false, false, false, true]
        );
    }

    #[test]
    fn nothing_is_marked_before_enough_nights() {
        let v = [Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(50.0)];
        assert!(regressions(&v, Worse::Up).iter().all(|m| !m));
    }

    #[test]
    fn noise_as_wide_as_the_move_is_not_marked() {
        let v: Vec<Option<f64>> = [50.0, 150.0, 60.0, 140.0, 55.0, 145.0, 150.0]
            .into_iter()
            .map(Some)
            .collect();
        assert!(!regressions(&v, Worse::Up)[6]);
    }
}
