//! `cargo bench -p faultline-checker`: checking time (parsing excluded) of the whole reference
//! corpus, of each corpus row, and of two synthetic histories: 100 000 kv operations over 1 000
//! keys from 20 clients, and 5 000 single-key cas-register operations from 50 clients; and the
//! fast path on 200 000 operations with unique values from 50 clients always in flight (`fast/`).
//!
//! The synthetic histories are simulated against an atomic register (tests/support/simulate.rs),
//! with Jepsen's usual shape: values 0..5, a read/write/cas mix, 1% of operations timing out
//! (`info`). The 50 clients think between operations (as Jepsen's `stagger` makes them) so that
//! about five are in flight at once; with all 50 always in flight every checker of this family
//! is exponential on a single key.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faultline_checker::history::{Event, Operation, pair_operations};
use faultline_checker::{Budget, ModelKind, Verdict, check_operations};
use serde_json::Value;

#[path = "../tests/support/mod.rs"]
mod support;

use support::corpus::manifest;
use support::schedule::Schedule;
use support::simulate::{Object, Simulation, simulate};
use support::unique::{UniqueObject, UniqueSimulation, simulate_unique};

struct Loaded {
    name: String,
    ops: Vec<Operation>,
    model: ModelKind,
    init: Option<Value>,
}

fn load_corpus() -> Vec<Loaded> {
    manifest()
        .into_iter()
        .map(|row| Loaded {
            ops: pair_operations(&row.events()),
            model: row.model_kind(),
            init: row.init_value(),
            name: row.name,
        })
        .collect()
}

/// A bench must never take the machine down: 4 GB, then "unknown" (which fails the bench).
const BUDGET: Budget = Budget {
    timeout: None,
    memory_limit: Some(4 << 30),
};

fn check(l: &Loaded) -> Verdict {
    check_operations(&l.ops, l.model, l.init.as_ref(), BUDGET)
        .expect("fits")
        .verdict
}

fn corpus(c: &mut Criterion) {
    let corpus = load_corpus();
    c.bench_function("corpus/all-230", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|l| check(black_box(l)) as u8 as u64)
                .sum::<u64>()
        })
    });
    // Porcupine's bench groups (`porcupine-bench/run.sh -group etcd|kv|knossos`), so the two
    // tools' check times compare group by group (scripts/porcupine-compare.sh).
    for (group, prefix) in [
        ("etcd", "porcupine-etcd/"),
        ("kv", "porcupine-kv/"),
        ("knossos", "knossos/cas-register/"),
    ] {
        let rows: Vec<&Loaded> = corpus
            .iter()
            .filter(|l| l.name.starts_with(prefix))
            .collect();
        c.bench_function(&format!("corpus/{group}"), |b| {
            b.iter(|| {
                rows.iter()
                    .map(|l| check(black_box(l)) as u8 as u64)
                    .sum::<u64>()
            })
        });
    }
    let mut rows = c.benchmark_group("row");
    rows.sample_size(10)
        .warm_up_time(Duration::from_millis(50))
        .measurement_time(Duration::from_millis(150));
    for l in &corpus {
        rows.bench_function(l.name.as_str(), |b| b.iter(|| check(black_box(l))));
    }
    rows.finish();
}

fn synthetic(events: Vec<Event>, model: ModelKind) -> Loaded {
    let ops = pair_operations(&events);
    let loaded = Loaded {
        name: String::new(),
        ops,
        model,
        init: None,
    };
    assert_eq!(check(&loaded), Verdict::Linearizable, "simulated history");
    loaded
}

fn synthetic_histories(c: &mut Criterion) {
    let kv = synthetic(
        simulate(
            &Simulation {
                object: Object::CasRegister,
                schedule: Schedule {
                    clients: 20,
                    ops: 100_000,
                    keys: (0..1000).map(|k| k.to_string()).collect(),
                    info_percent: 1,
                    think_percent: 0,
                },
                values: 5,
                init: None,
            },
            7,
        ),
        ModelKind::Kv,
    );
    let register = synthetic(
        simulate(
            &Simulation {
                object: Object::CasRegister,
                schedule: Schedule {
                    clients: 50,
                    ops: 5_000,
                    keys: vec![],
                    info_percent: 1,
                    think_percent: 90,
                },
                values: 5,
                init: None,
            },
            7,
        ),
        ModelKind::CasRegister,
    );
    let mut group = c.benchmark_group("synthetic");
    group.sample_size(10);
    group.bench_function("kv-100k-ops-1000-keys-20-clients", |b| {
        b.iter(|| check(black_box(&kv)))
    });
    group.bench_function("cas-register-5000-ops-50-clients", |b| {
        b.iter(|| check(black_box(&register)))
    });
    group.finish();
}

/// The fast path: unique written values (as faultline's workloads write them), 50 clients always
/// in flight, 1% `info` — a shape the search cannot get through on one key.
fn fast_path(c: &mut Criterion) {
    let unique = |object, keys: usize, model| {
        let sim = UniqueSimulation {
            object,
            schedule: Schedule {
                clients: 50,
                ops: 200_000,
                keys: (0..keys).map(|k| k.to_string()).collect(),
                info_percent: 1,
                think_percent: 0,
            },
            init: None,
        };
        synthetic(simulate_unique(&sim, 7), model)
    };
    let register = unique(UniqueObject::CasRegister, 0, ModelKind::CasRegister);
    let append = unique(UniqueObject::Append, 10_000, ModelKind::KvAppend);
    let mut group = c.benchmark_group("fast");
    group.sample_size(10);
    group.bench_function("cas-register-200k-ops-50-clients-in-flight", |b| {
        b.iter(|| check(black_box(&register)))
    });
    group.bench_function("append-200k-ops-10000-keys-50-clients-in-flight", |b| {
        b.iter(|| check(black_box(&append)))
    });
    group.finish();
}

criterion_group!(benches, corpus, synthetic_histories, fast_path);
criterion_main!(benches);
