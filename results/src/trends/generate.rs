//! Generated nights (hidden): a campaign of `cells` cells run every night for `nights` nights,
//! as the summary.json bytes the store would read — for the trends benchmark and tests. A new
//! build label every 7 nights; every fifth cell flips now and then under one label (flaky),
//! the others pass; figures wander a little around a level of their own, and cell 0's write
//! latency doubles on the last night (a regression).

use serde_json::json;

use crate::store::StoredNight;

/// xorshift64*: deterministic noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `nights` nights of `cells` cells, oldest first.
pub fn generated_nights(nights: usize, cells: usize) -> Vec<StoredNight> {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let workloads = ["register", "kv", "append", "set"];
    let modes = ["sync", "quorum", "async"];
    let nemeses = ["none", "kill", "partition", "kill,pause", "partition,clock"];
    (0..nights)
        .map(|night| {
            let runs: Vec<_> = (0..cells)
                .map(|cell| {
                    let workload = workloads[cell % workloads.len()];
                    let replication = modes[(cell / workloads.len()) % modes.len()];
                    let nemesis = nemeses[(cell / 12) % nemeses.len()];
                    let nodes = 3 + 2 * (cell / 60);
                    let failed = cell % 5 == 4 && noise.next() < 0.2;
                    let level = 500.0 + 40.0 * cell as f64;
                    let mut p99 = 20.0 + cell as f64 + 2.0 * noise.next();
                    if cell == 0 && night + 1 == nights {
                        p99 *= 2.0;
                    }
                    json!({
                        "label": format!("{workload}-{replication}-read-index-{}-n{nodes}-s1", nemesis.replace(',', "+")),
                        "replication": replication,
                        "reads": "read-index",
                        "workload": workload,
                        "nemesis": nemesis,
                        "nodes": nodes,
                        "seed": 1,
                        "dir": format!("runs/cell-{cell}/20260101T000000.000Z"),
                        "verdict": if failed { "invalid" } else { "valid" },
                        "expect": "valid",
                        "outcome": if failed { "fail" } else { "pass" },
                        "passed": !failed,
                        "ops_per_s": level * (0.95 + 0.1 * noise.next()),
                        "write_p99_ms": p99,
                        "write_availability_during_faults": 0.9 + 0.1 * noise.next(),
                        "failover_s": 1.0 + noise.next(),
                    })
                })
                .collect();
            let summary = json!({
                "name": "generated",
                "started": "",
                "passed": true,
                "interrupted": false,
                "runs": runs,
                "provenance": {
                    "faultline_version": "0.1.0",
                    "system": "kvnode",
                    "system_version": "0.1.0",
                    "label": format!("build-{}", night / 7),
                },
            });
            let day = jiff::civil::date(2026, 1, 1)
                .checked_add(jiff::Span::new().days(night as i64))
                .unwrap_or(jiff::civil::date(2026, 1, 1));
            StoredNight {
                stamp: format!("{}T020000.000Z", day.strftime("%Y%m%d")),
                summary: Ok(serde_json::to_vec(&summary).unwrap_or_default()),
            }
        })
        .collect()
}
