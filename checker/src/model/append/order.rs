//! The order reads reveal, when written texts identify the appends that wrote them (Porcupine's
//! kv tokens `"x P N y"`, kvnode's unique list elements): a read's value, split into written texts, spells
//! the put (or empty string) it starts from and the appends after it in the order they were
//! applied. An append's text can only ever appear right after the text it was appended to (a later
//! append adds after it, a put replaces the whole value), so an append seen in any read must be
//! applied to a state that ends with the text the read shows before it, or the empty string when
//! it shows none. The search refuses every other place for it at once, instead of trying every
//! order of concurrent appends until the reads rule them out.
//!
//! Sound only under what is checked here: no empty append, a read's split into written texts
//! unique (counted, up to two, by dynamic programming over its bytes), and the append the only op
//! that writes its text (Porcupine's kv files repeat a few tokens per key: those stay free). The
//! text before it may be anyone's: the state before the append ends with it whoever wrote it.
//! Anything else leaves the op unconstrained. A read whose split is impossible for any state (a
//! put's text after the first) gives nothing; the search then finds that read unlinearizable on
//! its own. Two reads that place one append after different texts leave the first's constraint:
//! no linearization satisfies both reads, and the search still finds none.

use super::{AppendOp, EMPTY, NO_TEXT, Texts};
use crate::model::SearchOp;

/// The last text a state must end with before an append of it, per text id: the empty string's
/// id (`EMPTY`) for the root, `NO_TEXT` where nothing is known. Empty when no constraint holds.
pub(super) fn required_predecessors(texts: &Texts, ops: &[SearchOp<AppendOp>]) -> Vec<u32> {
    // How many puts and appends write each text.
    let mut puts = vec![0u32; texts.texts.len()];
    let mut appends = vec![0u32; texts.texts.len()];
    for op in ops {
        match op.op {
            AppendOp::Get(_) => {}
            // A put of the empty string is the root again: no text to place.
            AppendOp::Put(EMPTY) => {}
            AppendOp::Put(t) => puts[t as usize] += 1,
            // An empty append leaves the value as it was, anywhere: a state's last text would
            // then not say what the value ends with.
            AppendOp::Append(EMPTY) => return Vec::new(),
            AppendOp::Append(t) => appends[t as usize] += 1,
        }
    }
    let written = |t: u32| puts[t as usize] + appends[t as usize] > 0;
    let mut lengths: Vec<usize> = (0..texts.texts.len() as u32)
        .filter(|&t| written(t))
        .map(|t| texts.texts[t as usize].len())
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    if lengths.is_empty() {
        return Vec::new();
    }
    let mut after = vec![NO_TEXT; texts.texts.len()];
    let mut parsed = vec![false; texts.texts.len()];
    let mut split = Split::default();
    for op in ops {
        let AppendOp::Get(read) = op.op else { continue };
        if std::mem::replace(&mut parsed[read as usize], true) {
            continue;
        }
        let Some(sequence) = split.unique(texts, &texts.texts[read as usize], &lengths, written)
        else {
            continue;
        };
        // Only the first text can be a put's.
        if sequence[1..].iter().any(|&t| appends[t as usize] == 0) {
            continue;
        }
        for (i, &t) in sequence.iter().enumerate() {
            // A text that several ops write does not say which of them the read saw.
            let one_append = appends[t as usize] == 1 && puts[t as usize] == 0;
            if one_append && after[t as usize] == NO_TEXT {
                after[t as usize] = if i == 0 { EMPTY } else { sequence[i - 1] };
            }
        }
    }
    after
}

/// Dynamic programming tables for splitting reads, kept across reads.
#[derive(Default)]
struct Split {
    /// Ways to split each prefix, counted up to two.
    ways: Vec<u8>,
    /// The last text of a prefix's split (meaningful where `ways` is 1).
    last: Vec<u32>,
}

impl Split {
    /// `value` as the one sequence of written texts that spells it, or `None` when there is no
    /// such sequence or more than one.
    fn unique(
        &mut self,
        texts: &Texts,
        value: &str,
        lengths: &[usize],
        written: impl Fn(u32) -> bool,
    ) -> Option<Vec<u32>> {
        let n = value.len();
        if n == 0 {
            return None;
        }
        self.ways.clear();
        self.ways.resize(n + 1, 0);
        self.last.clear();
        self.last.resize(n + 1, NO_TEXT);
        self.ways[0] = 1;
        for end in 1..=n {
            for &len in lengths {
                if len > end {
                    break;
                }
                let start = end - len;
                if self.ways[start] == 0 {
                    continue;
                }
                let Some(piece) = value.get(start..end) else {
                    continue;
                };
                if let Some(&t) = texts.ids.get(piece)
                    && written(t)
                {
                    self.ways[end] = (self.ways[end] + self.ways[start]).min(2);
                    self.last[end] = t;
                }
            }
        }
        if self.ways[n] != 1 {
            return None;
        }
        let mut sequence = Vec::new();
        let mut end = n;
        while end > 0 {
            let t = self.last[end];
            sequence.push(t);
            end -= texts.texts[t as usize].len();
        }
        sequence.reverse();
        Some(sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The predecessors `ops` (f, text) give, by text.
    fn predecessors(ops: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut texts = Texts::default();
        texts.intern("");
        let ops: Vec<SearchOp<AppendOp>> = ops
            .iter()
            .enumerate()
            .map(|(i, &(f, text))| {
                let t = texts.intern(text);
                SearchOp {
                    id: i,
                    call: i as u64,
                    ret: Some(i as u64),
                    op: match f {
                        "get" => AppendOp::Get(t),
                        "put" => AppendOp::Put(t),
                        _ => AppendOp::Append(t),
                    },
                }
            })
            .collect();
        let after = required_predecessors(&texts, &ops);
        let name = |t: u32| texts.texts[t as usize].to_string();
        after
            .iter()
            .enumerate()
            .filter(|&(_, &p)| p != NO_TEXT)
            .map(|(t, &p)| (name(t as u32), name(p)))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|&(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    #[test]
    fn a_read_places_each_append_it_shows_after_the_text_before_it() {
        let ops = [
            ("put", "xPy"),
            ("append", "x1y"),
            ("append", "x2y"),
            ("append", "x3y"),
            ("get", "xPyx2yx1y"),
            ("get", "x3y"),
        ];
        // x3y first in a read: after the empty string (the root); x1y after x2y, x2y after the
        // put's text.
        assert_eq!(
            predecessors(&ops),
            pairs(&[("x1y", "x2y"), ("x2y", "xPy"), ("x3y", "")])
        );
    }

    #[test]
    fn repeated_texts_stay_free_but_still_place_what_follows_them() {
        let ops = [
            ("append", "x1y"),
            ("append", "x1y"),
            ("append", "x2y"),
            ("get", "x1yx2y"),
        ];
        assert_eq!(predecessors(&ops), pairs(&[("x2y", "x1y")]));
    }

    #[test]
    fn ambiguous_splits_empty_appends_and_misplaced_puts_give_nothing() {
        // "aab" is "a"+"ab" or "aa"+"b".
        let ambiguous = [
            ("append", "a"),
            ("append", "aa"),
            ("append", "ab"),
            ("append", "b"),
            ("get", "aab"),
        ];
        assert_eq!(predecessors(&ambiguous), pairs(&[]));
        let empty = [("append", ""), ("append", "x1y"), ("get", "x1y")];
        assert_eq!(predecessors(&empty), pairs(&[]));
        // A put's text after the first can never be read: the read constrains nothing.
        let misplaced = [("append", "x1y"), ("put", "xPy"), ("get", "x1yxPy")];
        assert_eq!(predecessors(&misplaced), pairs(&[]));
    }
}
