//! `cargo bench -p faultline-checker --bench generated`: generated cas-register histories
//! (`faultline_checker::generate`: unique write values, C clients always in flight) over a grid
//! of clients × operations, in three shapes: one key; one key with 1% `info` operations and one
//! stale read halfway; 100 keys.
//!
//! For each cell it first prints one line: the verdict, the time to read the JSON Lines file and
//! check it (as `faultline check` does: streamed, paired, checked), and the heap that took at its
//! peak (a counting global allocator), per operation. Then criterion times the check alone
//! (parsing excluded) for the cells whose check took under a second; the others are slower than
//! a criterion loop allows and are reported by their single run.
//!
//! Knobs (environment): `FAULTLINE_GEN_MAX_OPS` (default 1 000 000) caps the grid's operations,
//! `FAULTLINE_GEN_TIMEOUT` (seconds, default 10) is each check's budget, with 1 GB of memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use faultline_checker::generate::{GenSpec, write_jsonl};
use faultline_checker::history::read_operations_file;
use faultline_checker::import::Format;
use faultline_checker::{Budget, ModelKind, check_operations};

/// The system allocator, counting the bytes allocated now and at the peak.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = NOW.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                NOW.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn grid() -> Vec<GenSpec> {
    let max_ops = env_number("FAULTLINE_GEN_MAX_OPS", 1_000_000) as usize;
    let mut cells = Vec::new();
    for (keys, info_percent, bad_read) in [(1, 0, false), (1, 1, true), (100, 0, false)] {
        for clients in [5, 10, 50, 100] {
            for ops in [1_000, 10_000, 100_000, 1_000_000] {
                if ops <= max_ops {
                    cells.push(GenSpec {
                        clients,
                        ops,
                        keys,
                        info_percent,
                        bad_read,
                        seed: 1,
                    });
                }
            }
        }
    }
    cells
}

fn generated(c: &mut Criterion) {
    let budget = Budget {
        timeout: Some(Duration::from_secs(env_number("FAULTLINE_GEN_TIMEOUT", 10))),
        memory_limit: Some(1 << 30),
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut group = c.benchmark_group("generated");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(2));
    println!("| history | ops | verdict | read + check ms | heap peak MB | bytes/op |");
    println!("|---|---:|---|---:|---:|---:|");
    for spec in grid() {
        let path = dir.path().join(format!("{}.jsonl", spec.name()));
        let file = std::fs::File::create(&path).expect("create the history");
        write_jsonl(&spec, std::io::BufWriter::new(file)).expect("write the history");

        let before = NOW.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let history = read_operations_file(&path, Some(Format::Jsonl)).expect("a valid history");
        let result = check_operations(&history.operations, ModelKind::CasRegister, None, budget)
            .expect("fits the model");
        let elapsed = started.elapsed();
        let held = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        let ops = history.operations.len();
        println!(
            "| {} | {ops} | {}{} | {:.1} | {:.1} | {:.0} |",
            spec.name(),
            result.verdict.name(),
            result
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            elapsed.as_secs_f64() * 1000.0,
            held as f64 / 1e6,
            held as f64 / ops.max(1) as f64
        );
        if elapsed < Duration::from_secs(1) {
            group.bench_function(spec.name(), |b| {
                b.iter(|| {
                    check_operations(
                        black_box(&history.operations),
                        ModelKind::CasRegister,
                        None,
                        budget,
                    )
                    .expect("fits the model")
                    .verdict
                })
            });
        }
        drop(history);
        std::fs::remove_file(&path).expect("remove the history");
    }
    group.finish();
}

criterion_group!(benches, generated);
criterion_main!(benches);
