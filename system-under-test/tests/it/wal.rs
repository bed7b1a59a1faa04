//! WAL recovery: a log cut at any byte offset reopens with exactly the records before the cut.

use std::time::Duration;

use kvnode::config::FsyncPolicy;
use kvnode::wal::Wal;
use serde_json::json;

use crate::cluster::{Cluster, Opts, RetryingClient};

fn random_payload(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = rng.usize(0..300);
    (0..len).map(|_| rng.u8(..)).collect()
}

#[test]
fn truncation_at_random_offsets_recovers_the_prefix() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal.log");
    let payloads: Vec<Vec<u8>> = (0..60).map(|_| random_payload(&mut rng)).collect();
    {
        let (mut wal, recovered) = Wal::open(&path, FsyncPolicy::Never).expect("open");
        assert!(recovered.records.is_empty());
        for p in &payloads {
            wal.append(p).expect("append");
        }
        wal.sync().expect("sync");
    }
    let full = std::fs::read(&path).expect("read");
    // End offset of each record.
    let mut ends = Vec::new();
    let mut pos = 0u64;
    for p in &payloads {
        pos += 8 + p.len() as u64;
        ends.push(pos);
    }
    assert_eq!(pos, full.len() as u64);

    let mut cuts: Vec<u64> = (0..300).map(|_| rng.u64(0..=full.len() as u64)).collect();
    cuts.extend([0, 1, 7, 8, full.len() as u64 - 1, full.len() as u64]);
    cuts.extend(ends.iter().take(5));
    for cut in cuts {
        std::fs::write(&path, &full[..cut as usize]).expect("write cut file");
        let keep = ends.iter().filter(|&&e| e <= cut).count();
        let good_len = if keep == 0 { 0 } else { ends[keep - 1] };
        let (mut wal, recovered) = Wal::open(&path, FsyncPolicy::Never).expect("reopen after cut");
        assert_eq!(recovered.records, payloads[..keep], "cut at {cut}");
        match &recovered.cut {
            None => assert_eq!(cut, good_len, "cut at {cut} left a torn record unreported"),
            Some(c) => {
                assert_eq!(c.offset, good_len, "cut at {cut}");
                assert_eq!(c.dropped, cut - good_len, "cut at {cut}");
            }
        }
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), good_len);
        // The log goes on from the cut: a new record lands after the recovered ones.
        wal.append(b"next").expect("append after recovery");
        wal.sync().expect("sync");
        drop(wal);
        let (_, again) = Wal::open(&path, FsyncPolicy::Never).expect("reopen");
        assert!(again.cut.is_none());
        assert_eq!(again.records.len(), keep + 1);
        assert_eq!(again.records[keep], b"next");
    }
}

#[test]
fn corrupt_record_cuts_the_log_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal.log");
    {
        let (mut wal, _) = Wal::open(&path, FsyncPolicy::Always).expect("open");
        for i in 0..10u8 {
            wal.append(&[i; 20]).expect("append");
        }
        wal.sync().expect("sync");
    }
    let mut bytes = std::fs::read(&path).expect("read");
    // Flip one payload byte of the 5th record (each frame is 8 + 20 bytes).
    bytes[4 * 28 + 8 + 3] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");
    let (_, recovered) = Wal::open(&path, FsyncPolicy::Always).expect("open");
    assert_eq!(recovered.records.len(), 4);
    let cut = recovered.cut.expect("cut reported");
    assert_eq!(cut.reason, "checksum mismatch");
    assert_eq!(cut.offset, 4 * 28);
}

/// A node whose log lost its last bytes restarts with the records before the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_restarts_after_torn_wal_tail() {
    let mut cluster = Cluster::start(1, &Opts::new("quorum"));
    cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    for i in 0..10 {
        let (code, _) = cluster
            .post(
                0,
                "/kv/put",
                &json!({"client_id": "w", "seq": i, "key": format!("k{i}"), "value": i}),
            )
            .await
            .expect("answer");
        assert_eq!(code, 200);
    }
    cluster.nodes[0].kill();
    let wal = cluster.nodes[0].data_dir.join("wal.log");
    let len = std::fs::metadata(&wal).expect("wal exists").len();
    // The last record is the entry of the last put: tear it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)
        .expect("open wal")
        .set_len(len - 3)
        .expect("truncate");
    cluster.nodes[0].start();
    cluster
        .wait_for_leader(Duration::from_secs(3))
        .await
        .expect("restarted and leading");
    // A read-index read returns once the new term's entry committed and everything applied.
    let mut reader = RetryingClient::new(cluster.addrs(), "reader");
    let (code, v) = reader
        .call("/kv/get", json!({"key": "k9"}), Duration::from_secs(3))
        .await
        .expect("read");
    assert_eq!(
        (code, &v["value"]),
        (200, &serde_json::Value::Null),
        "k9 torn away"
    );
    let data = cluster.dump(0).await.expect("dump")["data"].clone();
    for i in 0..9 {
        assert_eq!(data[format!("k{i}")], json!(i));
    }
    assert_eq!(data.get("k9"), None, "the torn record is gone");
    assert!(
        cluster.nodes[0].log().contains("torn tail"),
        "the cut is logged"
    );
}
