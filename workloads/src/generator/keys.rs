//! Choosing a key slot: uniformly, or zipfian through a precomputed CDF and a binary search (one
//! `f64` draw and `log2(slots)` comparisons per choice, no dependency).

use super::KeyDistribution;

pub(super) struct KeyChooser {
    slots: usize,
    /// Zipfian only: `cdf[k]` = probability of choosing a slot `<= k`; the last entry is 1.
    cdf: Option<Vec<f64>>,
}

impl KeyChooser {
    /// `slots` must not be zero.
    pub(super) fn new(slots: usize, distribution: KeyDistribution) -> Self {
        let cdf = match distribution {
            KeyDistribution::Uniform => None,
            KeyDistribution::Zipfian { exponent } => zipf_cdf(slots, exponent),
        };
        KeyChooser { slots, cdf }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
    }

    pub(super) fn choose(&self, rng: &mut fastrand::Rng) -> usize {
        match &self.cdf {
            None => rng.usize(..self.slots),
            Some(cdf) => {
                let u = rng.f64();
                // The first key whose cumulative probability exceeds `u`; rounding can leave the
                // last entry a hair under 1, hence the clamp.
                cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
            }
        }
    }
}

/// The CDF of `P(k) ∝ 1 / (k + 1)^exponent` over `n` keys, or `None` (uniform) when the exponent
/// makes no distribution (NaN, infinite, or weights that overflow).
fn zipf_cdf(n: usize, exponent: f64) -> Option<Vec<f64>> {
    if !exponent.is_finite() {
        return None;
    }
    let weights: Vec<f64> = (0..n).map(|k| ((k + 1) as f64).powf(-exponent)).collect();
    let total: f64 = weights.iter().sum();
    if !total.is_finite() || total <= 0.0 {
        return None;
    }
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w;
            acc / total
        })
        .collect();
    if let Some(last) = cdf.last_mut() {
        *last = 1.0;
    }
    Some(cdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(chooser: &KeyChooser, draws: usize) -> Vec<usize> {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut counts = vec![0; chooser.len()];
        for _ in 0..draws {
            counts[chooser.choose(&mut rng)] += 1;
        }
        counts
    }

    #[test]
    fn zipfian_follows_the_power_law() {
        let chooser = KeyChooser::new(10, KeyDistribution::Zipfian { exponent: 1.0 });
        let c = counts(&chooser, 100_000);
        // P(k0) = 1 / H(10) ≈ 0.341, P(k1) ≈ 0.171, P(k9) ≈ 0.034.
        assert!((33_000..35_300).contains(&c[0]), "{c:?}");
        assert!((16_300..17_900).contains(&c[1]), "{c:?}");
        assert!((3_000..3_900).contains(&c[9]), "{c:?}");
        assert!(c.windows(2).all(|w| w[0] >= w[1]), "{c:?}");
    }

    #[test]
    fn uniform_spreads_evenly() {
        let chooser = KeyChooser::new(4, KeyDistribution::Uniform);
        let c = counts(&chooser, 40_000);
        assert!(c.iter().all(|&n| (9_500..10_500).contains(&n)), "{c:?}");
    }

    #[test]
    fn zero_exponent_is_uniform_and_nonsense_falls_back_to_uniform() {
        let flat = KeyChooser::new(4, KeyDistribution::Zipfian { exponent: 0.0 });
        assert!(
            counts(&flat, 40_000)
                .iter()
                .all(|&n| (9_500..10_500).contains(&n))
        );
        for exponent in [f64::NAN, f64::INFINITY, -f64::INFINITY, -2000.0] {
            let chooser = KeyChooser::new(4, KeyDistribution::Zipfian { exponent });
            assert!(chooser.cdf.is_none(), "{exponent}");
        }
    }

    #[test]
    fn one_key_is_always_chosen() {
        let chooser = KeyChooser::new(1, KeyDistribution::Zipfian { exponent: 2.0 });
        assert_eq!(counts(&chooser, 100), vec![100]);
    }
}
