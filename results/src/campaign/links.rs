//! Where a comparison page links a run's report. The page may be written anywhere
//! (`compare --out`), so a link relative to the working directory is wrong: inside the store
//! the runs are in, links are relative to the page (page and store move together, and `serve`
//! follows them); anywhere else they are absolute file URLs (a page in /tmp opens every report).

use std::path::Path;

use url::Url;

use crate::store::RunDir;

/// The link from the page at `page` to the report of the run folder `run`; both absolute paths
/// with no symlink in them (canonical), or `None` when either is not absolute.
pub fn report_href(page: &Path, run: &Path) -> Option<String> {
    let run = RunDir {
        path: run.to_owned(),
    };
    let page_url = Url::from_file_path(page).ok()?;
    let report = Url::from_file_path(run.report()).ok()?;
    let inside = match (page.parent(), run.store()) {
        (Some(folder), Some(store)) => folder.starts_with(store),
        _ => false,
    };
    if inside {
        page_url.make_relative(&report)
    } else {
        Some(report.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_inside_the_store_absolute_outside() {
        let run = Path::new("/s/store/t/20260101T000000.000Z");
        let href = |page: &str| report_href(Path::new(page), run).expect("absolute paths");
        assert_eq!(
            href("/s/store/compare.html"),
            "t/20260101T000000.000Z/report.html"
        );
        assert_eq!(
            href("/s/store/pages/c.html"),
            "../t/20260101T000000.000Z/report.html"
        );
        assert_eq!(
            href("/s/c.html"),
            "file:///s/store/t/20260101T000000.000Z/report.html"
        );
        // A campaign's run is in the store the campaign is in.
        let in_campaign = Path::new("/s/store/campaigns/n/20260101T000000.000Z/runs/t/x");
        assert_eq!(
            report_href(Path::new("/s/store/c.html"), in_campaign).as_deref(),
            Some("campaigns/n/20260101T000000.000Z/runs/t/x/report.html")
        );
        assert_eq!(
            report_href(Path::new("/s/a b/c.html"), Path::new("/s/a b/t/x")).as_deref(),
            Some("t/x/report.html")
        );
        assert_eq!(report_href(Path::new("c.html"), run), None);
    }
}
