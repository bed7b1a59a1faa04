//! The trends of a whole store on one page (`faultline trends STORE` writes it as
//! `<store>/trends.html` and `trends.json`): a row per campaign with its nights, cells and what
//! its own trends page found, linked. A store without campaigns still gets the page, saying so.

use askama::Template;
use serde::Serialize;

use super::Trends;
use crate::campaign::PageError;

/// One campaign's line on the store's page.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignTrends {
    pub campaign: String,
    /// Its trends page, relative to the store.
    pub page: String,
    pub nights: usize,
    pub unreadable: usize,
    pub cells: usize,
    pub new_failures: usize,
    pub flaky: usize,
    pub fixed: usize,
}

impl CampaignTrends {
    /// The line for the campaign in `campaigns/<name>` whose trends are `trends`.
    pub fn of(name: &str, trends: &Trends) -> CampaignTrends {
        let count = |class| trends.with_class(class).count();
        CampaignTrends {
            campaign: name.to_owned(),
            page: format!("campaigns/{name}/trends.html"),
            nights: trends.nights.len(),
            unreadable: trends.bad_runs.len(),
            cells: trends.cells.len(),
            new_failures: count("new failure"),
            flaky: count("flaky"),
            fixed: count("fixed"),
        }
    }
}

#[derive(Template)]
#[template(path = "trends_overview.html")]
struct OverviewPage<'a> {
    campaigns: &'a [CampaignTrends],
}

/// The store's page (HTML) and its JSON.
pub fn render_overview(campaigns: &[CampaignTrends]) -> Result<(String, String), PageError> {
    let html = OverviewPage { campaigns }.render()?;
    let json = serde_json::to_string_pretty(&serde_json::json!({ "campaigns": campaigns }))
        .unwrap_or_else(|_| "{}".to_owned());
    Ok((html, json))
}
