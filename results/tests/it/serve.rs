//! `serve` over raw HTTP requests (no URL normalisation in between): the index, files, and
//! every way out of the store refused.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use faultline_results::serve::router;
use tower::ServiceExt;

async fn get(store: &std::path::Path, uri: &str) -> (StatusCode, String) {
    let response = router(store.to_owned())
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn lists_runs_newest_first_and_serves_only_files_inside_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    for (test, stamp, verdict) in [
        ("a", "20260101T000000.000Z", "valid"),
        ("b", "20260102T000000.000Z", "invalid"),
    ] {
        let run = store.join(test).join(stamp);
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::write(
            run.join("results.json"),
            format!("{{\"verdict\":\"{verdict}\"}}"),
        )
        .expect("write");
        std::fs::write(run.join("report.html"), "<p>report</p>").expect("write");
    }
    let campaign = store.join("campaigns/nightly/20260103T000000.000Z");
    std::fs::create_dir_all(&campaign).expect("mkdir");
    std::fs::write(
        campaign.join("summary.json"),
        r#"{"passed":false,"interrupted":false}"#,
    )
    .expect("write");
    std::fs::write(campaign.join("index.html"), "<p>compare</p>").expect("write");
    std::fs::write(dir.path().join("secret.txt"), "secret").expect("write");
    std::os::unix::fs::symlink(
        dir.path().join("secret.txt"),
        store.join("b/20260102T000000.000Z/escape.txt"),
    )
    .expect("symlink");

    let (status, index) = get(&store, "/").await;
    assert_eq!(status, StatusCode::OK);
    let newer = index.find("20260102T000000.000Z").expect("b listed");
    let older = index.find("20260101T000000.000Z").expect("a listed");
    assert!(newer < older, "newest first");
    assert!(index.contains(">invalid<") && index.contains(">valid<"));
    assert!(
        index.contains("nightly") && index.contains(">failed<"),
        "{index}"
    );
    assert!(
        !index.contains("running or unfinished"),
        "campaigns are not runs: {index}"
    );
    let (status, body) = get(
        &store,
        "/files/campaigns/nightly/20260103T000000.000Z/index.html",
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "<p>compare</p>"));

    let (status, body) = get(&store, "/files/a/20260101T000000.000Z/report.html").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "<p>report</p>"));

    for escape in [
        "/files/../secret.txt",
        "/files/a/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/a/%2E%2E/%2e%2e/secret.txt",
        "/files/..%2fsecret.txt",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/b/20260102T000000.000Z/escape.txt",
    ] {
        let (status, body) = get(&store, escape).await;
        assert_ne!(status, StatusCode::OK, "{escape}");
        assert!(!body.contains("secret"), "{escape}: {body}");
    }
}

#[tokio::test]
async fn nothing_outside_the_store_is_listed_or_served_whatever_links_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let run = store.join("a/20260101T000000.000Z");
    std::fs::create_dir_all(&run).expect("mkdir");
    std::fs::write(run.join("results.json"), r#"{"verdict":"valid"}"#).expect("write");
    std::os::unix::fs::symlink("20260101T000000.000Z", store.join("a/latest")).expect("latest");
    // Outside the store: a folder that looks like a test with a run, and a bare results file.
    let outside = dir.path().join("elsewhere");
    let foreign = outside.join("foreign/20991231T000000.000Z");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("results.json"), r#"{"verdict":"leaked"}"#).expect("write");
    std::fs::write(foreign.join("report.html"), "secret").expect("write");
    // Linked from inside the store as a test folder, as a run folder, as the campaigns folder
    // and as a run's results.json.
    std::os::unix::fs::symlink(outside.join("foreign"), store.join("linked-test")).expect("link");
    std::os::unix::fs::symlink(&foreign, store.join("a/20991230T000000.000Z")).expect("link");
    std::os::unix::fs::symlink(&outside, store.join("campaigns")).expect("link");
    let other = store.join("b/20260102T000000.000Z");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::os::unix::fs::symlink(foreign.join("results.json"), other.join("results.json"))
        .expect("link");

    let (status, index) = get(&store, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains("20260101T000000.000Z"), "{index}");
    for leak in ["linked-test", "2099", "leaked", "foreign", "latest"] {
        assert!(!index.contains(leak), "{leak} listed: {index}");
    }
    for url in [
        "/files/linked-test/20991231T000000.000Z/report.html",
        "/files/a/20991230T000000.000Z/report.html",
        "/files/campaigns/foreign/20991231T000000.000Z/report.html",
        "/files/b/20260102T000000.000Z/results.json",
    ] {
        let (status, body) = get(&store, url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}: {body}");
        assert!(
            !body.contains("secret") && !body.contains("leaked"),
            "{url}"
        );
    }
    let (status, _) = get(&store, "/files/a/latest/results.json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a link inside the store is followed"
    );
}

#[tokio::test]
async fn a_run_without_results_or_cut_short_is_listed_with_a_one_word_class() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    std::fs::create_dir_all(store.join("a/20260101T000000.000Z")).expect("mkdir");
    let cut = store.join("b/20260102T000000.000Z");
    std::fs::create_dir_all(&cut).expect("mkdir");
    std::fs::write(
        cut.join("results.json"),
        r#"{"verdict":"valid","interrupted":{"after_s":9.0,"of_s":30.0}}"#,
    )
    .expect("write");
    let (status, index) = get(&store, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        index.contains(r#"<td class="unfinished">running or unfinished</td>"#),
        "{index}"
    );
    assert!(
        index.contains(r#"<td class="valid">valid, interrupted</td>"#),
        "{index}"
    );
}
