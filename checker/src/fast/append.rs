//! The version order of list appends (kv-append as kvnode's append is: an append adds one element,
//! an `ok` read returns the list), one key at a time: applies when the key has no put, every
//! element (not a list, not nil, not the empty string) is appended once and every read is a list
//! (or nil, the empty list). See the module
//! above for why one pass over the order the reads reveal decides linearizability.

use hashbrown::HashMap;
use serde_json::Value;

use super::{Fast, Span, Witness, check_positions};
use crate::history::Operation;
use crate::model::{AppendOp, KvAppend, Partition};

const NONE: u32 = u32::MAX;

pub(crate) fn check(partition: &Partition<KvAppend>, history: &[Operation]) -> Fast {
    let ops = &partition.ops;
    // Elements interned by their JSON text (as the model compares them), with the one append of
    // each.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut elements: Vec<Value> = Vec::new();
    let mut append_of: Vec<u32> = Vec::new();
    let mut intern = |value: &Value, append_of: &mut Vec<u32>| -> u32 {
        let next = elements.len() as u32;
        let id = *ids.entry(value.to_string()).or_insert(next);
        if id == next {
            elements.push(value.clone());
            append_of.push(NONE);
        }
        id
    };
    // (position in ops, the list read)
    let mut reads: Vec<(usize, Vec<u32>)> = Vec::new();
    for (i, search_op) in ops.iter().enumerate() {
        let Some(op) = super::operation(history, search_op.id) else {
            return Fast::NotApplicable;
        };
        match search_op.op {
            AppendOp::Append(_) => {
                // A list appends its elements one by one, nil none; and when values are strings
                // (no list anywhere on the key) an empty string appends nothing a read would
                // show. Each is the model's business, not an element's.
                if op.input.is_array() || op.input.is_null() || op.input.as_str() == Some("") {
                    return Fast::NotApplicable;
                }
                let id = intern(&op.input.to_json(), &mut append_of);
                if append_of[id as usize] != NONE {
                    return Fast::NotApplicable;
                }
                append_of[id as usize] = i as u32;
            }
            AppendOp::Get(_) => {
                let list = match op.output.as_ref().map(|v| v.to_json()) {
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|item| intern(item, &mut append_of))
                        .collect(),
                    Some(Value::Null) => Vec::new(),
                    _ => return Fast::NotApplicable,
                };
                reads.push((i, list));
            }
            AppendOp::Put(_) => return Fast::NotApplicable,
        }
    }
    let list_value =
        |list: &[u32]| Value::Array(list.iter().map(|&e| elements[e as usize].clone()).collect());
    let witness = |op: usize, conflict: Option<usize>, needed: Value, why: String| {
        Fast::NotLinearizable(Witness {
            op,
            conflict,
            needed,
            why,
        })
    };
    let describe = |i: usize| describe(history, ops[i].id);

    // The longest read is the version order; every other read is a prefix of it.
    let Some((longest_at, longest)) = reads
        .iter()
        .enumerate()
        .max_by_key(|(n, (_, list))| (list.len(), std::cmp::Reverse(*n)))
        .map(|(_, (at, list))| (*at, list.as_slice()))
    else {
        // No read: appends alone always linearize.
        return Fast::Linearizable;
    };
    for (at, list) in &reads {
        if !longest.starts_with(list) {
            return witness(
                *at,
                Some(longest_at),
                list_value(&longest[..list.len().min(longest.len())]),
                format!(
                    "reads {}, which is not a prefix of what {} read: a list only grows at its end",
                    list_value(list),
                    describe(longest_at)
                ),
            );
        }
    }
    let mut index_in_order = vec![NONE; append_of.len()];
    for (j, &e) in longest.iter().enumerate() {
        if index_in_order[e as usize] != NONE {
            return witness(
                longest_at,
                None,
                list_value(&longest[..j]),
                format!(
                    "reads {}, which holds {} twice, yet it was appended once",
                    list_value(longest),
                    elements[e as usize]
                ),
            );
        }
        if append_of[e as usize] == NONE {
            return witness(
                longest_at,
                None,
                list_value(&longest[..j]),
                format!(
                    "reads {}, whose element {} no append wrote",
                    list_value(longest),
                    elements[e as usize]
                ),
            );
        }
        index_in_order[e as usize] = j as u32;
    }

    // Positions: reads of j elements at 2j, the append of the j-th at 2j-1, and the appends no
    // read shows (completed ones; pending ones may never have happened) after every read.
    let k = longest.len() as u32;
    let mut items: Vec<(u32, Span)> = Vec::with_capacity(ops.len());
    for (at, list) in &reads {
        items.push((2 * list.len() as u32, Span::of(*at, &ops[*at])));
    }
    for (e, &at) in append_of.iter().enumerate() {
        if at == NONE {
            continue;
        }
        let op = &ops[at as usize];
        let pos = match index_in_order[e] {
            NONE if op.ret.is_none() => continue,
            NONE => 2 * k + 1,
            j => 2 * j + 1,
        };
        items.push((pos, Span::of(at as usize, op)));
    }
    items.sort_by_key(|(pos, _)| *pos);
    let Err((earlier, later)) = check_positions(&items) else {
        return Fast::Linearizable;
    };
    let pos = items
        .iter()
        .find(|(_, s)| *s == earlier)
        .map_or(0, |(pos, _)| *pos);
    let lost = items.iter().any(|&(p, s)| s == later && p == 2 * k + 1);
    let why = if lost {
        format!(
            "{} returned before it was invoked, yet no read shows its element: a lost append",
            describe(later.op)
        )
    } else {
        format!(
            "{} returned before it was invoked, yet comes after it in the order the reads reveal \
             ({})",
            describe(later.op),
            list_value(longest)
        )
    };
    witness(
        earlier.op,
        Some(later.op),
        list_value(&longest[..(pos / 2) as usize]),
        why,
    )
}

/// An operation in words, with its history indices.
fn describe(history: &[Operation], id: usize) -> String {
    let Some(op) = super::operation(history, id) else {
        return format!("operation {id}");
    };
    let what = match &op.output {
        Some(out) if op.f != "append" => format!("the {} of {out}", op.f),
        _ => format!("the {} of {}", op.f, op.input),
    };
    match op.return_index {
        Some(r) => format!("{what} (history index {}..{r})", op.call_index),
        None => format!(
            "{what} (invoked at history index {}, pending)",
            op.call_index
        ),
    }
}
