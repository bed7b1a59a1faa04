//! `faultline serve`: the store over HTTP, read-only. `/` lists the campaigns, each campaign's
//! trends page across nights, and the runs, newest first, with their outcomes (real folders of the store only, see `listing`);
//! `/files/<path>` serves any regular file inside the store (reports, results, histories, node
//! logs) and refuses every path that leads outside it.

mod listing;
mod paths;

use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub use listing::{CampaignEntry, RunEntry, TrendsEntry, campaigns, runs, trends_pages};

#[derive(Template)]
#[template(path = "store_index.html")]
struct IndexPage {
    store: String,
    campaigns: Vec<CampaignEntry>,
    trends: Vec<TrendsEntry>,
    runs: Vec<RunEntry>,
}

/// The read-only web view of `store`.
pub fn router(store: PathBuf) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/files/{*path}", get(file))
        .with_state(Arc::new(store))
}

async fn index(State(store): State<Arc<PathBuf>>) -> Response {
    let page = IndexPage {
        store: store.display().to_string(),
        campaigns: campaigns(&store),
        trends: trends_pages(&store),
        runs: runs(&store),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    }
}

async fn file(State(store): State<Arc<PathBuf>>, UrlPath(requested): UrlPath<String>) -> Response {
    let Some(path) = paths::resolve(&store, &requested) else {
        return (StatusCode::NOT_FOUND, "not found in the store").into_response();
    };
    match tokio_read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found in the store").into_response(),
    }
}

/// Reads a file off the async runtime's worker threads.
async fn tokio_read(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let path = path.to_owned();
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    }
}
