//! How a figure is written for people (report, campaign index, `compare`): one format each, so
//! the pages and the terminal agree, and "–" where there was nothing to measure.

/// A fraction as a percentage with one decimal.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_become_percentages_and_nothing_a_dash() {
        assert_eq!(percent(Some(0.1234)), "12.3%");
        assert_eq!(percent(Some(1.0)), "100.0%");
        assert_eq!(percent(None), "–");
    }
}
