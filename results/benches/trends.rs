//! `cargo bench -p faultline-results --bench trends`: the nightly trends of a year of nights
//! (365 generated summary.json files, 50 cells each, `trends::generate`): parsing and
//! classifying them, rendering trends.html, and both; the page's size is printed once.
//! The goal (issue 16): under 2 s and under 2 MB.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faultline_results::trends::generate::generated_nights;
use faultline_results::trends::{TrendOptions, compute_trends, render_trends};

fn trends(c: &mut Criterion) {
    let nights = generated_nights(365, 50);
    let computed = compute_trends("generated", nights.clone(), TrendOptions::default());
    let page = render_trends(&computed).expect("renders");
    let json = serde_json::to_string(&computed).expect("serialises");
    eprintln!(
        "365 nights × 50 cells: trends.html {} bytes, trends.json {} bytes",
        page.len(),
        json.len()
    );
    let mut group = c.benchmark_group("trends-365x50");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("compute", |b| {
        b.iter(|| {
            compute_trends(
                "generated",
                black_box(nights.clone()),
                TrendOptions::default(),
            )
        })
    });
    group.bench_function("render", |b| {
        b.iter(|| render_trends(black_box(&computed)).expect("renders"))
    });
    group.bench_function("compute+render+json", |b| {
        b.iter(|| {
            let t = compute_trends(
                "generated",
                black_box(nights.clone()),
                TrendOptions::default(),
            );
            let html = render_trends(&t).expect("renders");
            let json = serde_json::to_string(&t).expect("serialises");
            (html.len(), json.len())
        })
    });
    group.finish();
}

criterion_group!(benches, trends);
criterion_main!(benches);
