//! The search against a brute-force checker that tries every order of operations consistent
//! with real time (no memo, no pruning beyond the model), on thousands of small random histories.

use faultline_checker::history::{Event, OpValue, Operation, pair_operations};
use faultline_checker::{Budget, ModelKind, Verdict, check_events};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::simulate::{Object, Simulation, mutate, simulate};

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

/// Is there an order of all completed operations (and any subset of pending ones) that respects
/// real time and that the specification accepts? Keys are separate objects in one state map.
fn brute_force(object: Object, ops: &[Operation], init: &Value) -> bool {
    fn go(
        object: Object,
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
            if let Some(after) = apply(object, &before, &ops[i]) {
                done[i] = true;
                states.insert(key.clone(), after);
                if go(object, ops, done, states, init) {
                    return true;
                }
                states.insert(key, before);
                done[i] = false;
            }
        }
        false
    }
    go(
        object,
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
    let result = check_events(events, model, init_json.as_ref(), Budget::default())
        .expect("simulated histories fit the model");
    let got = result.verdict == Verdict::Linearizable;
    assert_ne!(result.verdict, Verdict::Unknown);
    assert_eq!(
        got,
        expected,
        "search says {}, brute force says {}, for:\n{}",
        result.verdict.name(),
        if expected {
            "linearizable"
        } else {
            "not-linearizable"
        },
        events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

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
            clients,
            ops,
            keys: if keyed { vec!["a".into(), "b".into()] } else { vec![] },
            values: 3,
            info_percent: 25,
            init,
            think_percent: 0,
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
            clients,
            ops,
            keys: vec![],
            values: 0,
            info_percent: 25,
            init: None,
            think_percent: 0,
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
            clients: 4,
            ops: 8,
            keys: vec![],
            values: 3,
            info_percent: 25,
            init: None,
            think_percent: 0,
        };
        let events = simulate(&sim, seed);
        let result = check_events(&events, ModelKind::CasRegister, None, Budget::default())
            .expect("fits the model");
        assert_eq!(result.verdict, Verdict::Linearizable, "seed {seed}");
    }
}
