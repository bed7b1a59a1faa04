//! The comparison page's charts read back from their SVG: a chart per question (write
//! availability, failovers, anomalies, throughput, p99 latency), each mode in its own column and
//! colour in one fixed order whatever the campaign listed, and no chart that breaks on a
//! campaign of one mode or a mode that never failed over.

use faultline_results::campaign::{
    CampaignRun, CampaignSummary, Expect, Setup, render_index, summarise_campaign,
};
use faultline_results::palette;
use faultline_results::{Verdict, summarise};

use crate::charts::{Tag, tags};

const CHARTS: [&str; 5] = [
    "write-availability",
    "failover",
    "anomalies",
    "throughput",
    "latency-p99",
];

/// A run of `mode` with nothing measured; the tests fill in what they compare.
fn run(mode: &str, n: usize) -> CampaignRun {
    CampaignRun::new(
        format!("{mode}-{n}"),
        Setup::kvnode(mode, "read-index", "register", "partition"),
        n as u64,
        format!("runs/{mode}-{n}/1"),
        Expect::Any,
        &summarise(&[], None, false),
        10.0,
    )
}

/// Sync stops writing, async loses data, quorum keeps both: two runs of each, listed as the
/// quickstart campaign lists them (sync, quorum, async).
fn three_modes() -> CampaignSummary {
    let mut runs = Vec::new();
    for n in 0..2 {
        let mut sync = run("sync", n);
        sync.write_availability_during_faults = Some(0.0);
        sync.ops_per_s = 2000.0 + n as f64 * 200.0;
        sync.p99_ms = [("read".into(), 900.0), ("write".into(), 1000.0)].into();
        runs.push(sync);
    }
    for n in 0..2 {
        let mut quorum = run("quorum", n);
        quorum.write_availability_during_faults = Some(1.0);
        quorum.failovers_s = vec![1.2 + n as f64, 2.0];
        quorum.ops_per_s = 6000.0;
        quorum.p99_ms = [("read".into(), 8.0), ("write".into(), 12.0)].into();
        runs.push(quorum);
    }
    for n in 0..2 {
        let mut async_ = run("async", n);
        async_.write_availability_during_faults = Some(0.98 + n as f64 * 0.02);
        async_.failovers_s = vec![0.4];
        async_.ops_per_s = 9000.0;
        async_.p99_ms = [("read".into(), 2.0), ("write".into(), 3.0)].into();
        async_.stale_reads = 4;
        async_.lost_writes = 3 * n;
        async_.verdict = Verdict::Invalid;
        runs.push(async_);
    }
    summarise_campaign("c".into(), "now".into(), runs, false)
}

/// The chart `id` of the page, as its SVG element.
fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg id=\"chart-{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + html[start..].find("</svg>").expect("the chart's end");
    &html[start..end]
}

fn hex(c: palette::Rgb) -> String {
    c.hex().to_ascii_uppercase()
}

/// The rectangles filled with `colour` (solid, not a shade), as (x0, x1, height).
fn bars(tags: &[Tag], colour: &str) -> Vec<(f64, f64, f64)> {
    tags.iter()
        .filter(|t| t.name == "rect" && t.attr("fill") == Some(colour))
        .filter(|t| t.num("opacity") > 0.5)
        .map(|t| {
            let x = t.num("x");
            (x, x + t.num("width"), t.num("height"))
        })
        .collect()
}

fn tallest(tags: &[Tag], colour: &str) -> f64 {
    bars(tags, colour).iter().map(|b| b.2).fold(0.0, f64::max)
}

/// The x of the text `text` (its first occurrence).
fn text_x(tags: &[Tag], text: &str) -> f64 {
    tags.iter()
        .find(|t| t.name == "text" && t.text == text)
        .map(|t| t.num("x"))
        .unwrap_or_else(|| panic!("no text {text:?}"))
}

#[test]
fn each_chart_draws_every_mode_in_its_colour_in_one_order() {
    let html = render_index(&three_modes()).expect("index");
    let (a, s, q) = (
        hex(palette::series(0)),
        hex(palette::series(1)),
        hex(palette::series(2)),
    );
    for id in CHARTS {
        let svg = chart(&html, id);
        let tags = tags(svg);
        let title = tags.iter().find(|t| t.name == "title").expect("a title");
        assert!(
            title.text.ends_with("by replication"),
            "{id}: {}",
            title.text
        );
        // Async, sync, quorum from left to right, though the campaign listed sync first.
        let xs = ["async", "sync", "quorum"].map(|m| text_x(&tags, m));
        assert!(xs[0] < xs[1] && xs[1] < xs[2], "{id}: columns at {xs:?}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{id}");
    }

    let availability = tags(chart(&html, "write-availability"));
    assert!(
        tallest(&availability, &a) > 100.0 && tallest(&availability, &q) > 100.0,
        "async and quorum write during faults"
    );
    assert!(tallest(&availability, &s) < 1.0, "sync does not");

    // Async's bars are the only ones above zero: lost writes, stale reads, a verdict.
    let anomalies = tags(chart(&html, "anomalies"));
    assert_eq!(bars(&anomalies, &a).len(), 3, "a bar per kind");
    assert!(bars(&anomalies, &a).iter().all(|b| b.2 > 20.0));
    for other in [&s, &q] {
        assert!(tallest(&anomalies, other) < 1.0, "{other} found nothing");
    }
    // Each panel names its columns under them.
    for (x0, x1, _) in bars(&anomalies, &a) {
        assert!(
            anomalies
                .iter()
                .any(|t| t.text == "async" && (x0..=x1).contains(&t.num("x"))),
            "async named under its bar at {x0}..{x1}"
        );
    }
    for label in [
        "lost acknowledged writes",
        "stale reads",
        "runs not linearizable",
    ] {
        assert!(anomalies.iter().any(|t| t.text == label), "{label} panel");
    }

    // Read and write in their operation colours, in every mode.
    let latency = tags(chart(&html, "latency-p99"));
    for f in ["read", "write"] {
        assert_eq!(
            bars(&latency, &hex(palette::operation(f))).len(),
            3,
            "a {f} bar per mode"
        );
    }
    let throughput = tags(chart(&html, "throughput"));
    assert!(tallest(&throughput, &a) > tallest(&throughput, &s));

    // The table lists the modes in the same order, each with its colour.
    let table = &html[html.find("<h2>By replication</h2>").expect("table")..];
    let at = |m: &str| table.find(&format!("</span>{m}</td>")).expect(m);
    assert!(at("async") < at("sync") && at("sync") < at("quorum"));
    assert!(table.contains(&format!("background: {}", palette::series(0).hex())));
}

#[test]
fn a_mode_has_its_colour_whatever_other_modes_a_page_shows() {
    let mut summary = three_modes();
    summary
        .runs
        .retain(|r| r.setup.option("replication") == Some("quorum"));
    let html = render_index(&summary).expect("index");
    let q = hex(palette::series(2));
    assert!(tallest(&tags(chart(&html, "write-availability")), &q) > 100.0);
}

#[test]
fn a_campaign_of_one_mode_and_nothing_measured_draws_every_chart() {
    let summary = summarise_campaign("c".into(), "now".into(), vec![run("quorum", 0)], false);
    let html = render_index(&summary).expect("index");
    for id in CHARTS {
        let svg = chart(&html, id);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{id}: {svg}");
        assert!(tags(svg).iter().any(|t| t.text == "quorum"), "{id}");
    }
}

#[test]
fn a_mode_without_failover_draws_an_empty_distribution_with_a_note() {
    let html = render_index(&three_modes()).expect("index");
    let tags = tags(chart(&html, "failover"));
    let note = tags
        .iter()
        .find(|t| t.name == "text" && t.text == "no failover measured")
        .expect("a note");
    // Under sync's column: nearer its name than any other's.
    let x = note.num("x");
    let nearest = ["async", "sync", "quorum"].into_iter().min_by(|a, b| {
        (text_x(&tags, a) - x)
            .abs()
            .total_cmp(&(text_x(&tags, b) - x).abs())
    });
    assert_eq!(nearest, Some("sync"));
    // A dot per failover: 2 of async, 4 of quorum.
    let dots = tags
        .iter()
        .filter(|t| t.name == "circle" && t.num("r") == 3.0)
        .count();
    assert_eq!(dots, 6);
    for label in ["2 failovers", "4 failovers"] {
        assert!(tags.iter().any(|t| t.text == label), "{label}");
    }
}

/// A run of etcd with its one option.
fn etcd_run(reads: &str, n: usize) -> CampaignRun {
    let mut run = run("quorum", n);
    run.label = format!("etcd-{reads}-{n}");
    run.setup = Setup {
        system: "etcd".into(),
        options: [("reads".to_owned(), reads.to_owned())].into(),
        workload: "register".into(),
        nemesis: "partition".into(),
    };
    run
}

#[test]
fn a_campaign_crossing_systems_compares_what_differs_and_nothing_else() {
    // kvnode's replication is the same in every kvnode run: it does not split the page; the
    // systems and the read modes do.
    let mut quorum = run("quorum", 0);
    quorum.setup = Setup::kvnode("quorum", "lease", "register", "partition");
    let runs = vec![
        etcd_run("serializable", 0),
        quorum,
        etcd_run("linearizable", 0),
        etcd_run("serializable", 1),
    ];
    let summary = summarise_campaign("c".into(), "now".into(), runs, false);
    assert_eq!(summary.compared_by, "system · reads");
    let groups: Vec<(&str, usize)> = summary
        .groups
        .iter()
        .map(|g| (g.value.as_str(), g.runs))
        .collect();
    assert_eq!(
        groups,
        [
            ("kvnode · lease", 1),
            ("etcd · linearizable", 1),
            ("etcd · serializable", 2)
        ]
    );
    let html = render_index(&summary).expect("index");
    let table = &html[html.find("<h2>By system · reads</h2>").expect("table")..];
    let at = |v: &str| table.find(&format!("</span>{v}</td>")).expect(v);
    assert!(at("kvnode · lease") < at("etcd · linearizable"));
    for id in CHARTS {
        let svg = chart(&html, id);
        assert!(
            tags(svg).iter().any(|t| t.text == "etcd · serializable"),
            "{id}"
        );
    }
}

#[test]
fn a_campaign_of_one_mode_is_still_compared_by_replication() {
    // A campaign of one kvnode mode: nothing differs, the page still reads "by replication".
    let summary = summarise_campaign("c".into(), "now".into(), vec![run("sync", 0)], false);
    assert_eq!(summary.compared_by, "replication");
    assert_eq!(summary.groups[0].value, "sync");
}
