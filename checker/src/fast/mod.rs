//! Polynomial checking where values identify writes: when every value written to a key is
//! distinct (faultline's own generators make them so), each read names the one write it saw, and
//! linearizability is decided by orderings in O(n log n) instead of a search — the read-mapping
//! algorithms of Gibbons & Korach for registers (`register.rs`) and, for list appends, the version
//! order the reads' prefixes reveal, as Elle does (`append.rs`). Anything they do not apply to
//! (repeated values, puts, string appends, other models) goes to the Wing–Gong–Lowe search.
//!
//! # Why it is correct
//!
//! Real time is history-index order: `a` precedes `b` iff `a.ret < b.call` (a pending op's `ret`
//! is +infinity). A history is linearizable iff some sequential order of its ops that the model
//! accepts extends that partial order (every pending op placed or left out).
//!
//! **Forced ops.** Completed ops must be placed. A pending write (or cas) of `v` must be placed iff
//! a placed op observes `v` (reads `v`, or is a cas from `v`): with unique values nobody else could
//! have written it. Every other pending op is left out: removing all of them from a linearization
//! leaves one (every placed read or cas still finds, as the last write before it, the write it
//! observes — which is placed — and a subsequence keeps real-time order). So the forced ops are
//! the closure of "completed" under "writer of an observed value".
//!
//! **Registers.** Values never recur: once the register moves past `v` it never holds `v` again. So
//! a cas from `v` must directly follow `v`'s segment, two forced cas from one value cannot both
//! happen, and a chain `write a, cas a→b, cas b→c` occupies one *contiguous* block of any
//! linearization, in the forced order [write a][reads of a][cas a→b][reads of b][cas b→c][reads
//! of c]: a foreign write inside it would end the value the next op of the chain observes. The
//! start value is a virtual write at -infinity heading the first block. A block's ops extend real
//! time among themselves iff no op at a later position returned before an op at an earlier
//! position was invoked (reads at one position are ordered by invocation); one pass with a
//! running maximum of invocations decides it (`check_positions`).
//!
//! Between blocks, with `f(S)` the earliest return in `S` and `s(S)` the latest invocation, `S`
//! must precede `T` iff `f(S) < s(T)`. Any order of the blocks that respects those edges, each
//! block in its forced order, is a linearization; so the history is linearizable iff every block
//! is internally consistent and the edges are acyclic. A cycle exists iff a 2-cycle does: take the
//! cycle's block `m` with the least `f`, its predecessor `p` and `p`'s predecessor `p'`; then
//! `f(p) < s(m)` and `f(m) <= f(p') < s(p)`, so `m` and `p` precede each other. Sorting blocks by
//! `f` and keeping the two largest `s` of each prefix finds a 2-cycle in O(n log n)
//! (`find_two_cycle`). The start value's block has `f = -infinity`: it precedes every block, and a
//! block that returned before one of its reads or cas was invoked closes a 2-cycle with it.
//!
//! **List appends.** With unique elements and no puts, the longest read `e1..eK` is the order the
//! observed appends took effect, every read is a prefix of it, and any linearization is
//! [reads of []][append e1][reads of [e1]]...[reads of e1..eK] followed by the appends no read
//! shows (had one come earlier, a later read would show it): one block, checked in one pass.

pub(crate) mod append;
pub(crate) mod register;

use serde_json::Value;

use crate::history::Operation;

/// The fast path's answer for one partition.
pub(crate) enum Fast {
    /// The partition's values do not identify its writes: only the search applies.
    NotApplicable,
    Linearizable,
    NotLinearizable(Witness),
}

/// Why a partition is not linearizable, in the fast path's terms. Positions are indices into
/// `Partition::ops`.
#[derive(Debug, Clone)]
pub(crate) struct Witness {
    /// The operation that cannot be placed.
    pub op: usize,
    /// The operation it conflicts with, when there is one.
    pub conflict: Option<usize>,
    /// The state the operation needed.
    pub needed: Value,
    /// What went wrong, in words.
    pub why: String,
}

/// An operation's interval on a line where 0 is -infinity and `u64::MAX` is +infinity (history
/// index + 1 otherwise), with its position in the partition (`VIRTUAL` for the start value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub call: u64,
    pub ret: u64,
    pub op: usize,
}

/// The operation with `id` (`Operation::id`): at that position when ids are positions, as
/// `check_operations` asks.
pub(crate) fn operation(history: &[Operation], id: usize) -> Option<&Operation> {
    match history.get(id) {
        Some(op) if op.id == id => Some(op),
        _ => history.iter().find(|op| op.id == id),
    }
}

/// The start value's write, at -infinity.
pub(crate) const VIRTUAL: usize = usize::MAX;

impl Span {
    pub fn of<O>(op: usize, search_op: &crate::model::SearchOp<O>) -> Span {
        Span {
            call: search_op.call.saturating_add(1),
            ret: search_op.ret.map_or(u64::MAX, |r| r.saturating_add(1)),
            op,
        }
    }

    pub const START: Span = Span {
        call: 0,
        ret: 0,
        op: VIRTUAL,
    };
}

/// Checks a forced order: `ops` sorted by position, ops sharing a position free among themselves.
/// Returns `(earlier, later)` when an op at a later position returned before an op at an earlier
/// position was invoked.
pub(crate) fn check_positions(ops: &[(u32, Span)]) -> Result<(), (Span, Span)> {
    // The latest invocation among strictly earlier positions, and the same within the current one.
    let mut before: Option<Span> = None;
    let mut current: Option<Span> = None;
    let mut position = None;
    for &(pos, span) in ops {
        if position != Some(pos) {
            if let Some(c) = current.take()
                && before.is_none_or(|b| c.call > b.call)
            {
                before = Some(c);
            }
            position = Some(pos);
        }
        if let Some(b) = before
            && span.ret < b.call
        {
            return Err((b, span));
        }
        if current.is_none_or(|c| span.call > c.call) {
            current = Some(span);
        }
    }
    Ok(())
}

/// A contiguous block of a linearization: its earliest return and latest invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub first_ret: Span,
    pub last_call: Span,
}

impl Block {
    pub fn of(spans: impl IntoIterator<Item = Span>) -> Option<Block> {
        let mut block: Option<Block> = None;
        for s in spans {
            block = Some(match block {
                None => Block {
                    first_ret: s,
                    last_call: s,
                },
                Some(b) => Block {
                    first_ret: if s.ret < b.first_ret.ret {
                        s
                    } else {
                        b.first_ret
                    },
                    last_call: if s.call > b.last_call.call {
                        s
                    } else {
                        b.last_call
                    },
                },
            });
        }
        block
    }
}

/// Two blocks that must each precede the other (`f(S) < s(T)` and `f(T) < s(S)`), if any.
pub(crate) fn find_two_cycle(blocks: &[Block]) -> Option<(usize, usize)> {
    let mut by_f: Vec<usize> = (0..blocks.len()).collect();
    by_f.sort_unstable_by_key(|&i| blocks[i].first_ret.ret);
    // best[k]: the two blocks with the largest `s` among the first k+1 in `f` order.
    let mut best: Vec<(usize, Option<usize>)> = Vec::with_capacity(by_f.len());
    let s = |i: usize| blocks[i].last_call.call;
    for &i in &by_f {
        let next = match best.last() {
            None => (i, None),
            Some(&(a, b)) => {
                if s(i) > s(a) {
                    (i, Some(a))
                } else if b.is_none_or(|b| s(i) > s(b)) {
                    (a, Some(i))
                } else {
                    (a, b)
                }
            }
        };
        best.push(next);
    }
    for t in 0..blocks.len() {
        // Blocks S with f(S) < s(T): a prefix of `by_f`.
        let k = by_f.partition_point(|&i| blocks[i].first_ret.ret < s(t));
        let Some(&(a, b)) = k.checked_sub(1).and_then(|k| best.get(k)) else {
            continue;
        };
        let other = if a != t { Some(a) } else { b };
        if let Some(o) = other
            && s(o) > blocks[t].first_ret.ret
        {
            return Some((o, t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(call: u64, ret: u64, op: usize) -> Span {
        Span { call, ret, op }
    }

    #[test]
    fn a_later_position_returning_before_an_earlier_one_is_invoked_is_a_violation() {
        let ok = [(0, span(1, 5, 0)), (1, span(2, 3, 1)), (1, span(6, 7, 2))];
        assert_eq!(check_positions(&ok), Ok(()));
        // Op 2 at position 2 returned (4) before op 1 at position 1 was invoked (5).
        let bad = [(0, span(1, 2, 0)), (1, span(5, 9, 1)), (2, span(3, 4, 2))];
        assert_eq!(check_positions(&bad), Err((bad[1].1, bad[2].1)));
        // Within one position, any order goes.
        let same = [(0, span(1, 2, 0)), (0, span(5, 6, 1))];
        assert_eq!(check_positions(&same), Ok(()));
    }

    #[test]
    fn two_blocks_that_each_precede_the_other_are_found() {
        let block = |f, s| Block {
            first_ret: span(0, f, 0),
            last_call: span(s, 0, 0),
        };
        // S returns at 2 and invokes at 10; T returns at 5 and invokes at 6: a 2-cycle.
        assert!(matches!(
            find_two_cycle(&[block(2, 10), block(5, 6)]),
            Some((0, 1) | (1, 0))
        ));
        // T invoked before S returned: S and T are concurrent, no cycle.
        assert_eq!(find_two_cycle(&[block(2, 10), block(5, 1)]), None);
        // A block is never its own predecessor.
        assert_eq!(find_two_cycle(&[block(2, 10)]), None);
        // A chain of three ordered blocks.
        assert_eq!(
            find_two_cycle(&[block(2, 1), block(4, 3), block(6, 5)]),
            None
        );
    }
}
