//! The search against a brute-force checker that tries every order of operations consistent
//! with real time (no memo, no pruning beyond the model), on thousands of small random histories;
//! and on histories with unique written values, the fast path against both.

use faultline_checker::history::{Event, OpValue, Operation, pair_operations};
use faultline_checker::{Budget, Method, ModelKind, Verdict, check_events, check_events_with};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::schedule::Schedule;
use crate::support::simulate::{Object, Simulation, mutate, simulate};
use crate::support::strings::{Alphabet, mutate_strings, simulate_strings};
use crate::support::unique::{UniqueObject, UniqueSimulation, mutate_unique, simulate_unique};

/// The sequential specification, written independently of the checker's models.
fn apply(object: Object, state: &Value, op: &Operation) -> Option<Value> {
    match (object, op.f.as_str()) {
        (Object::CasRegister, "read") => match &op.output {
            None => Some(state.clone()),
            Some(v) if v == state => Some(state.clone()),
            _ => None,
        },
        (Object::CasRegister, "write") => Some(op.input.to_json()),
        (Object::CasRegister, "cas") => {
            let (from, to) = op.input.as_pair()?;
            (from == *state).then(|| to.to_json())
        }
        (Object::Mutex, "acquire") => (*state == Value::Bool(false)).then_some(Value::Bool(true)),
        (Object::Mutex, "release") => (*state == Value::Bool(true)).then_some(Value::Bool(false)),
        _ => None,
    }
}

/// Lists with append (one element) and read, nil read as the empty list.
fn apply_append(state: &Value, op: &Operation) -> Option<Value> {
    match op.f.as_str() {
        "read" => match op.output.as_ref().map(OpValue::to_json) {
            None => Some(state.clone()),
            Some(Value::Null) if state.as_array().is_some_and(Vec::is_empty) => Some(state.clone()),
            Some(v) if v == *state => Some(state.clone()),
            _ => None,
        },
        "append" => {
            let mut list = state.as_array().cloned().unwrap_or_default();
            list.push(op.input.to_json());
            Some(Value::Array(list))
        }
        _ => None,
    }
}

/// Porcupine's kv object: strings with get, put and append; a get of nil reads the empty string.
fn apply_strings(state: &Value, op: &Operation) -> Option<Value> {
    let current = state.as_str().unwrap_or_default();
    let text = |v: &Value| match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    match op.f.as_str() {
        "get" => match op.output.as_ref().map(OpValue::to_json) {
            None => Some(state.clone()),
            Some(v) => (text(&v)? == current).then(|| state.clone()),
        },
        "put" => Some(Value::String(text(&op.input.to_json())?)),
        "append" => Some(Value::String(format!(
            "{current}{}",
            text(&op.input.to_json())?
        ))),
        _ => None,
    }
}

/// Is there an order of all completed operations (and any subset of pending ones) that respects
/// real time and that the specification accepts? Keys are separate objects in one state map.
fn brute_force(object: Object, ops: &[Operation], init: &Value) -> bool {
    brute_force_with(&|state, op| apply(object, state, op), ops, init)
}

type Spec<'a> = &'a dyn Fn(&Value, &Operation) -> Option<Value>;

fn brute_force_with(spec: Spec<'_>, ops: &[Operation], init: &Value) -> bool {
    fn go(
        spec: Spec<'_>,
        ops: &[Operation],
        done: &mut Vec<bool>,
        states: &mut std::collections::BTreeMap<Option<String>, Value>,
        init: &Value,
    ) -> bool {
        let open: Vec<usize> = (0..ops.len()).filter(|&i| !done[i]).collect();
        if open.iter().all(|&i| ops[i].output.is_none()) {
            return true;
        }
        // An op may go next only if no open completed op returned before it was invoked.
        let horizon = open
            .iter()
            .filter_map(|&i| ops[i].return_index)
            .min()
            .unwrap_or(u64::MAX);
        for &i in &open {
            if ops[i].call_index > horizon {
                continue;
            }
            let key = ops[i].key.as_ref().map(|k| k.to_string());
            let before = states.get(&key).cloned().unwrap_or_else(|| init.clone());
            if let Some(after) = spec(&before, &ops[i]) {
                done[i] = true;
                states.insert(key.clone(), after);
                if go(spec, ops, done, states, init) {
                    return true;
                }
                states.insert(key, before);
                done[i] = false;
            }
        }
        false
    }
    go(
        spec,
        ops,
        &mut vec![false; ops.len()],
        &mut Default::default(),
        init,
    )
}

fn agree(object: Object, events: &[Event], init: Option<i64>, model: ModelKind) {
    let init_json = init.map(Value::from);
    let start = match object {
        Object::CasRegister => init_json.clone().unwrap_or(Value::Null),
        Object::Mutex => Value::Bool(false),
    };
    // A read of nil when the register can never be absent constrains nothing (Knossos).
    let ops: Vec<Operation> = pair_operations(events)
        .into_iter()
        .map(|mut op| {
            if init.is_some() && op.f == "read" && op.output == Some(OpValue::Null) {
                op.output = None;
            }
            op
        })
        .collect();
    let expected = brute_force(object, &ops, &start);
    // Auto takes the fast path wherever the few values drawn happen to be unique.
    for method in [Method::Search, Method::Auto] {
        let result =
            check_events_with(events, model, init_json.as_ref(), Budget::default(), method)
                .expect("simulated histories fit the model");
        let got = result.verdict == Verdict::Linearizable;
        assert_ne!(result.verdict, Verdict::Unknown);
        assert_eq!(
            got,
            expected,
            "{} says {}, brute force says {}, for:\n{}",
            method.name(),
            result.verdict.name(),
            if expected {
                "linearizable"
            } else {
                "not-linearizable"
            },
            show(events)
        );
    }
}

fn show(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fast path (`Method::Auto`, which must apply to every partition of these histories), the
/// search alone and the brute force give one verdict. Returns it.
fn fast_agrees(object: UniqueObject, events: &[Event], init: Option<i64>, keyed: bool) -> bool {
    let (model, start) = match object {
        UniqueObject::CasRegister if keyed => {
            (ModelKind::Kv, init.map_or(Value::Null, Value::from))
        }
        UniqueObject::CasRegister => (
            ModelKind::CasRegister,
            init.map_or(Value::Null, Value::from),
        ),
        UniqueObject::Append => (ModelKind::KvAppend, Value::Array(Vec::new())),
    };
    let init_json = init
        .map(Value::from)
        .filter(|_| object == UniqueObject::CasRegister);
    let ops: Vec<Operation> = pair_operations(events)
        .into_iter()
        .map(|mut op| {
            if init_json.is_some()
                && op.f == "read"
                && op.output.as_ref().is_some_and(OpValue::is_null)
            {
                op.output = None;
            }
            op
        })
        .collect();
    let expected = match object {
        UniqueObject::CasRegister => brute_force(Object::CasRegister, &ops, &start),
        UniqueObject::Append => brute_force_with(&apply_append, &ops, &start),
    };
    let check = |method| {
        check_events_with(events, model, init_json.as_ref(), Budget::default(), method)
            .expect("simulated histories fit the model")
    };
    let fast = check(Method::Auto);
    let search = check(Method::Search);
    let name = |linearizable: bool| {
        if linearizable {
            "linearizable"
        } else {
            "not-linearizable"
        }
    };
    assert_eq!(
        fast.decided.fast,
        fast.partitions,
        "the fast path applies to every partition of:\n{}",
        show(events)
    );
    assert_eq!(
        search.decided.fast, 0,
        "Method::Search never takes the fast path"
    );
    assert_ne!(search.verdict, Verdict::Unknown);
    for (method, result) in [("fast path", &fast), ("search", &search)] {
        assert_eq!(
            result.verdict == Verdict::Linearizable,
            expected,
            "{method} says {}, brute force says {}, for:\n{}",
            result.verdict.name(),
            name(expected),
            show(events)
        );
    }
    if !expected {
        assert!(fast.explanation.is_some(), "explained:\n{}", show(events));
    }
    expected
}

/// A simulation of unique values, shaped by the proptest's draws.
fn unique_simulation(
    object: UniqueObject,
    clients: usize,
    ops: usize,
    keyed: bool,
    init: Option<i64>,
) -> UniqueSimulation {
    UniqueSimulation {
        object,
        schedule: Schedule {
            clients,
            ops,
            keys: if keyed {
                vec!["a".into(), "b".into()]
            } else {
                vec![]
            },
            info_percent: 25,
            think_percent: 0,
        },
        init,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn fast_path_on_unique_registers_agrees_with_search_and_brute_force(
        seed in any::<u64>(),
        clients in 2usize..=4,
        ops in 1usize..=8,
        keyed in any::<bool>(),
        mutated in any::<bool>(),
        init in proptest::option::of(Just(0i64)),
    ) {
        let sim = unique_simulation(UniqueObject::CasRegister, clients, ops, keyed, init);
        let mut events = simulate_unique(&sim, seed);
        if mutated {
            mutate_unique(&mut events, seed);
        }
        fast_agrees(UniqueObject::CasRegister, &events, init, keyed);
    }

    #[test]
    fn fast_path_on_list_appends_agrees_with_search_and_brute_force(
        seed in any::<u64>(),
        clients in 2usize..=4,
        ops in 1usize..=8,
        keyed in any::<bool>(),
        mutated in any::<bool>(),
    ) {
        let sim = unique_simulation(UniqueObject::Append, clients, ops, keyed, None);
        let mut events = simulate_unique(&sim, seed);
        if mutated {
            mutate_unique(&mut events, seed);
        }
        fast_agrees(UniqueObject::Append, &events, None, keyed);
    }

    /// Porcupine's kv histories: the search, with the order reads reveal where written texts
    /// allow it (`model/append/order.rs`) and without where they repeat or split ambiguously.
    #[test]
    fn kv_append_strings_search_agrees_with_brute_force(
        seed in any::<u64>(),
        clients in 2usize..=4,
        ops in 1usize..=8,
        keyed in any::<bool>(),
        mutated in any::<bool>(),
        alphabet in prop_oneof![
            Just(Alphabet::Unique),
            Just(Alphabet::Repeated),
            Just(Alphabet::Ambiguous),
        ],
    ) {
        let schedule = Schedule {
            clients,
            ops,
            keys: if keyed { vec!["a".into(), "b".into()] } else { vec!["k".into()] },
            info_percent: 25,
            think_percent: 0,
        };
        let mut events = simulate_strings(&schedule, alphabet, seed);
        if mutated {
            mutate_strings(&mut events, seed);
        }
        let ops = pair_operations(&events);
        let expected = brute_force_with(&apply_strings, &ops, &Value::String(String::new()));
        for method in [Method::Search, Method::Auto] {
            let result = check_events_with(&events, ModelKind::KvAppend, None, Budget::default(), method)
                .expect("simulated histories fit the model");
            prop_assert_ne!(result.verdict, Verdict::Unknown);
            prop_assert_eq!(
                result.verdict == Verdict::Linearizable,
                expected,
                "{} says {}, for:\n{}",
                method.name(),
                result.verdict.name(),
                show(&events)
            );
        }
    }

    #[test]
    fn cas_register_search_agrees_with_brute_force(
        seed in any::<u64>(),
        clients in 2usize..=4,
        ops in 1usize..=8,
        keyed in any::<bool>(),
        mutated in any::<bool>(),
        init in proptest::option::of(0i64..2),
    ) {
        let sim = Simulation {
            object: Object::CasRegister,
            schedule: Schedule {
                clients,
                ops,
                keys: if keyed { vec!["a".into(), "b".into()] } else { vec![] },
                info_percent: 25,
                think_percent: 0,
            },
            values: 3,
            init,
        };
        let mut events = simulate(&sim, seed);
        if mutated {
            mutate(&mut events, seed, sim.values);
        }
        let model = if keyed { ModelKind::Kv } else { ModelKind::CasRegister };
        agree(Object::CasRegister, &events, init, model);
    }

    #[test]
    fn mutex_search_agrees_with_brute_force(
        seed in any::<u64>(),
        clients in 2usize..=4,
        ops in 1usize..=8,
        mutated in any::<bool>(),
    ) {
        let sim = Simulation {
            object: Object::Mutex,
            schedule: Schedule {
                clients,
                ops,
                keys: vec![],
                info_percent: 25,
                think_percent: 0,
            },
            values: 0,
            init: None,
        };
        let mut events = simulate(&sim, seed);
        if mutated {
            mutate(&mut events, seed, 0);
        }
        agree(Object::Mutex, &events, None, ModelKind::Mutex);
    }
}

#[test]
fn unmutated_simulations_are_linearizable() {
    // The generator itself must produce linearizable histories, or the differential test above
    // would only ever compare "not linearizable" answers.
    for seed in 0..500 {
        let sim = Simulation {
            object: Object::CasRegister,
            schedule: Schedule {
                clients: 4,
                ops: 8,
                keys: vec![],
                info_percent: 25,
                think_percent: 0,
            },
            values: 3,
            init: None,
        };
        let events = simulate(&sim, seed);
        let result = check_events(&events, ModelKind::CasRegister, None, Budget::default())
            .expect("fits the model");
        assert_eq!(result.verdict, Verdict::Linearizable, "seed {seed}");
    }
}

/// The unique-value histories above must hold what makes the fast path hard — cas chains,
/// pending writes that a read observed, unobserved `ok` appends — and both verdicts, or the
/// differential tests would compare easy cases only. Counts them over the same shapes, with the
/// same agreement check.
#[test]
fn unique_value_histories_hold_cas_chains_pending_ops_and_both_verdicts() {
    #[derive(Default, Debug)]
    struct Mix {
        cas_chains: usize,
        observed_pending: usize,
        linearizable: usize,
        not_linearizable: usize,
    }
    let mut mixes = [Mix::default(), Mix::default()];
    for seed in 0..600u64 {
        for (object, mix) in [UniqueObject::CasRegister, UniqueObject::Append]
            .into_iter()
            .zip(mixes.iter_mut())
        {
            let init = (object == UniqueObject::CasRegister && seed % 3 == 0).then_some(0);
            let sim = unique_simulation(object, 2 + (seed % 3) as usize, 8, seed % 2 == 0, init);
            let mut events = simulate_unique(&sim, seed);
            if seed % 2 == 1 {
                mutate_unique(&mut events, seed);
            }
            let ops = pair_operations(&events);
            let ok_cas_to: Vec<Value> = ops
                .iter()
                .filter(|op| op.f == "cas" && op.output.is_some())
                .map(|op| op.input.to_json()[1].clone())
                .collect();
            if ops.iter().any(|op| {
                op.f == "cas" && op.output.is_some() && ok_cas_to.contains(&op.input.to_json()[0])
            }) {
                mix.cas_chains += 1;
            }
            let read_values: Vec<Value> = ops
                .iter()
                .filter(|op| op.f == "read")
                .filter_map(|op| op.output.as_ref().map(OpValue::to_json))
                .flat_map(|v| match v {
                    Value::Array(items) => items,
                    v => vec![v],
                })
                .collect();
            if ops.iter().any(|op| {
                op.output.is_none()
                    && op.f != "read"
                    && read_values.contains(&if op.f == "cas" {
                        op.input.to_json()[1].clone()
                    } else {
                        op.input.to_json()
                    })
            }) {
                mix.observed_pending += 1;
            }
            if fast_agrees(object, &events, init, seed % 2 == 0) {
                mix.linearizable += 1;
            } else {
                mix.not_linearizable += 1;
            }
        }
    }
    let [registers, appends] = &mixes;
    assert!(registers.cas_chains >= 40, "{registers:?}");
    assert!(registers.observed_pending >= 60, "{registers:?}");
    assert!(appends.observed_pending >= 60, "{appends:?}");
    for mix in &mixes {
        assert!(mix.linearizable >= 300, "{mix:?}");
        assert!(mix.not_linearizable >= 80, "{mix:?}");
    }
}
