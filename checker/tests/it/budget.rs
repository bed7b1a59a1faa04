//! Budgets: running out of time or memory is the answer "unknown, because ...", never a crash.

use std::time::Duration;

use faultline_checker::{Budget, ModelKind, Verdict, check_events};

use crate::support::simulate::explosive;

#[test]
fn memory_budget_ends_an_exploding_search_with_unknown() {
    let events = explosive(40);
    let budget = Budget {
        timeout: None,
        memory_limit: Some(20 * 1024 * 1024),
    };
    let result = check_events(&events, ModelKind::CasRegister, None, budget).expect("fits");
    assert_eq!(result.verdict, Verdict::Unknown);
    let reason = result.reason.expect("unknown has a reason");
    assert!(reason.contains("memory budget of 20 MB"), "{reason}");
    assert!(result.configurations > 100_000, "{}", result.configurations);
}

#[test]
fn time_budget_ends_an_exploding_search_with_unknown() {
    let events = explosive(40);
    let budget = Budget {
        timeout: Some(Duration::from_millis(200)),
        memory_limit: None,
    };
    let result = check_events(&events, ModelKind::CasRegister, None, budget).expect("fits");
    assert_eq!(result.verdict, Verdict::Unknown);
    let reason = result.reason.expect("unknown has a reason");
    assert!(reason.contains("time budget of 0.200s"), "{reason}");
}

#[test]
fn small_explosive_history_is_decided_within_budget() {
    // The same shape, small enough to search exhaustively: the read of an unwritten value is
    // the operation that cannot be linearized.
    let events = explosive(4);
    let result =
        check_events(&events, ModelKind::CasRegister, None, Budget::default()).expect("fits");
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    let explanation = result.explanation.expect("explained");
    assert_eq!(explanation.op.f, "read");
    assert_eq!(explanation.op.invoke_index, 8);
    assert_eq!(explanation.concurrent.len(), 8);
}

#[test]
fn a_long_history_fits_a_small_budget_by_forgetting_old_configurations() {
    use crate::support::schedule::Schedule;
    use crate::support::simulate::{Object, Simulation, simulate};
    let sim = Simulation {
        object: Object::CasRegister,
        schedule: Schedule {
            clients: 5,
            ops: 60_000,
            keys: vec![],
            info_percent: 0,
            think_percent: 0,
        },
        values: 5,
        init: None,
    };
    let events = simulate(&sim, 11);
    let unlimited =
        check_events(&events, ModelKind::CasRegister, None, Budget::default()).expect("fits");
    assert_eq!(unlimited.verdict, Verdict::Linearizable);
    let limit = unlimited.peak_memory_bytes / 4;
    let budget = Budget {
        timeout: None,
        memory_limit: Some(limit),
    };
    let small = check_events(&events, ModelKind::CasRegister, None, budget).expect("fits");
    assert_eq!(small.verdict, Verdict::Linearizable, "{:?}", small.reason);
    assert!(small.peak_memory_bytes <= limit);
}
