//! Read mapping for registers (register, cas-register, kv), one key at a time: applies when every
//! value written (write, cas `to`, pending ones included) is distinct and differs from the start
//! value. See the module above for why the blocks and their order decide linearizability.

use super::{Block, Fast, Span, VIRTUAL, Witness, check_positions, find_two_cycle};
use crate::model::{Model, Partition, Register, RegisterOp, SearchOp};

const NONE: u32 = u32::MAX;

/// The value an operation observes (read, cas `from`), if any.
fn observed(op: &RegisterOp) -> Option<u32> {
    match *op {
        RegisterOp::Read(v) | RegisterOp::Cas { from: v, .. } => Some(v),
        RegisterOp::Write(_) => None,
    }
}

/// The value an operation observes, or for a write the value it sets: the state it is about.
fn value_of(op: &RegisterOp) -> u32 {
    match *op {
        RegisterOp::Read(v) | RegisterOp::Write(v) | RegisterOp::Cas { from: v, .. } => v,
    }
}

pub(crate) fn check(partition: &Partition<Register>) -> Fast {
    let ops = &partition.ops;
    let init = partition.model.init();
    let values = ops
        .iter()
        .map(|o| match o.op {
            RegisterOp::Read(v) | RegisterOp::Write(v) => v,
            RegisterOp::Cas { from, to } => from.max(to),
        })
        .chain([init])
        .max()
        .map_or(0, |m| m as usize + 1);

    // The one writer of each value, or not applicable.
    let mut writer = vec![NONE; values];
    for (i, op) in ops.iter().enumerate() {
        if let RegisterOp::Write(v) | RegisterOp::Cas { to: v, .. } = op.op {
            if v == init || writer[v as usize] != NONE {
                return Fast::NotApplicable;
            }
            writer[v as usize] = i as u32;
        }
    }

    // Forced ops: completed ones, and the writers of values forced ops observe (closure).
    let mut forced: Vec<bool> = ops.iter().map(|o| o.ret.is_some()).collect();
    let mut work: Vec<usize> = (0..ops.len()).filter(|&i| forced[i]).collect();
    while let Some(i) = work.pop() {
        let Some(v) = observed(&ops[i].op) else {
            continue;
        };
        if v == init {
            continue;
        }
        let w = writer[v as usize];
        if w != NONE && !forced[w as usize] {
            forced[w as usize] = true;
            work.push(w as usize);
        }
    }
    let witness = |op: usize, conflict: Option<usize>, needed: u32, why: String| {
        Fast::NotLinearizable(Witness {
            op,
            conflict,
            needed: partition.model.describe_state(&needed),
            why,
        })
    };
    let show = |v: u32| partition.model.describe_state(&v);

    // A forced op observing a value nobody wrote; two forced cas from one value.
    let mut next = vec![NONE; values];
    let mut reads_per_value = vec![0u32; values + 1];
    for (i, op) in ops.iter().enumerate().filter(|(i, _)| forced[*i]) {
        if let Some(v) = observed(&op.op)
            && v != init
            && writer[v as usize] == NONE
        {
            return witness(
                i,
                None,
                v,
                format!("observes {}, which no operation wrote", show(v)),
            );
        }
        match op.op {
            RegisterOp::Cas { from, .. } => {
                let other = next[from as usize];
                if other != NONE {
                    return witness(
                        i,
                        Some(other as usize),
                        from,
                        format!(
                            "a second compare-and-set from {}: {} already took the register \
                             past it, and values never recur",
                            show(from),
                            describe(partition, other as usize)
                        ),
                    );
                }
                next[from as usize] = i as u32;
            }
            RegisterOp::Read(v) => reads_per_value[v as usize + 1] += 1,
            RegisterOp::Write(_) => {}
        }
    }
    // Reads grouped by value (counting sort: reads of v at start[v]..start[v+1]).
    for v in 0..values {
        reads_per_value[v + 1] += reads_per_value[v];
    }
    let start = reads_per_value.clone();
    let mut fill = reads_per_value;
    let mut reads = vec![0u32; start[values] as usize];
    for (i, op) in ops.iter().enumerate().filter(|(i, _)| forced[*i]) {
        if let RegisterOp::Read(v) = op.op {
            reads[fill[v as usize] as usize] = i as u32;
            fill[v as usize] += 1;
        }
    }

    // Each chain from its root: the start value, then every forced plain write.
    let roots = std::iter::once((Span::START, init)).chain(
        ops.iter()
            .enumerate()
            .filter(|(i, _)| forced[*i])
            .filter_map(|(i, op)| match op.op {
                RegisterOp::Write(v) => Some((Span::of(i, op), v)),
                _ => None,
            }),
    );
    let mut placed_cas = vec![false; ops.len()];
    let mut blocks: Vec<Block> = Vec::new();
    let mut items: Vec<(u32, Span)> = Vec::new();
    for (root, value) in roots {
        items.clear();
        items.push((0, root));
        let mut v = value;
        let mut pos = 0u32;
        loop {
            pos += 1;
            let of_v = &reads[start[v as usize] as usize..start[v as usize + 1] as usize];
            items.extend(
                of_v.iter()
                    .map(|&r| (pos, Span::of(r as usize, &ops[r as usize]))),
            );
            let c = next[v as usize];
            if c == NONE || placed_cas[c as usize] {
                break;
            }
            placed_cas[c as usize] = true;
            pos += 1;
            items.push((pos, Span::of(c as usize, &ops[c as usize])));
            v = match ops[c as usize].op {
                RegisterOp::Cas { to, .. } => to,
                _ => break,
            };
        }
        if root.op == VIRTUAL && items.len() == 1 {
            // Nothing observes the start value.
            continue;
        }
        if let Err((earlier, later)) = check_positions(&items) {
            let needed = value_of(&ops[earlier.op].op);
            return witness(
                earlier.op,
                Some(later.op),
                needed,
                format!(
                    "{} returned before it was invoked, yet must come after it: the register \
                     never holds {} again once that operation took effect",
                    describe(partition, later.op),
                    show(needed)
                ),
            );
        }
        if let Some(block) = Block::of(items.iter().map(|(_, s)| *s)) {
            blocks.push(block);
        }
    }
    if let Some(i) = (0..ops.len())
        .find(|&i| forced[i] && matches!(ops[i].op, RegisterOp::Cas { .. }) && !placed_cas[i])
    {
        let from = observed(&ops[i].op).unwrap_or(init);
        return witness(
            i,
            None,
            from,
            format!(
                "its compare-and-set chain never starts: {} is only written by compare-and-sets \
                 that need a value written after it",
                show(from)
            ),
        );
    }

    let Some((a, b)) = find_two_cycle(&blocks) else {
        return Fast::Linearizable;
    };
    // Blame the last invocation of the block that returned first (`x`, which must come first):
    // it was invoked after an op of the other block had returned. With one stale read, `x` is
    // the block of the value it read and the read is its last invocation.
    let (x, y) = if blocks[a].first_ret.ret <= blocks[b].first_ret.ret {
        (blocks[a], blocks[b])
    } else {
        (blocks[b], blocks[a])
    };
    let op = x.last_call.op;
    let conflict = (y.first_ret.op != VIRTUAL).then_some(y.first_ret.op);
    let needed = value_of(&ops[op].op);
    let before = match conflict {
        Some(c) => describe(partition, c),
        None => "the start value".to_owned(),
    };
    let after = if x.first_ret.op == VIRTUAL {
        "the start value".to_owned()
    } else {
        describe(partition, x.first_ret.op)
    };
    witness(
        op,
        conflict,
        needed,
        format!(
            "{before} returned before it was invoked, so the value it set comes first; yet {after} \
             returned before {} was invoked, so the value {} comes first: each must precede the other",
            describe(partition, y.last_call.op),
            show(needed)
        ),
    )
}

/// An operation in words, with its history indices.
fn describe(partition: &Partition<Register>, i: usize) -> String {
    let SearchOp { call, ret, op, .. } = &partition.ops[i];
    let show = |v: u32| partition.model.describe_state(&v);
    let what = match *op {
        RegisterOp::Read(v) => format!("the read of {}", show(v)),
        RegisterOp::Write(v) => format!("the write of {}", show(v)),
        RegisterOp::Cas { from, to } => {
            format!("the compare-and-set {} -> {}", show(from), show(to))
        }
    };
    match ret {
        Some(r) => format!("{what} (history index {call}..{r})"),
        None => format!("{what} (invoked at history index {call}, pending)"),
    }
}
