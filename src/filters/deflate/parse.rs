//! Parsing the input into literals and matches: greedy (take the longest match found at
//! each position) or lazy (first check whether the next position starts a longer one).

use super::buckets::{best_match, candidate, Buckets};
use super::matcher::load32;
use super::matcher::Matcher;
use super::params::Params;
use super::tables::{MAX_MATCH, MIN_MATCH};
use super::Encoder;

/// Enters the positions from `from` up to (not including) `to` that have 4 bytes left.
#[inline(always)]
fn insert_range(m: &mut Matcher, seg: &[u8], from: usize, to: usize) {
    let to = to.min(seg.len().saturating_sub(3));
    for q in from..to {
        m.insert(seg, q);
    }
}

/// Greedy parsing of `seg` (which starts at `base` in the encoder's input).
pub fn greedy(enc: &mut Encoder, m: &mut Matcher, seg: &[u8], base: usize, prm: &Params) {
    let n = seg.len();
    let mut p = 0;
    while p + 4 <= n {
        if enc.block.syms.len() >= prm.block_syms {
            enc.end_block(base + p, false);
        }
        let first = m.insert(seg, p);
        let max_len = (n - p).min(MAX_MATCH);
        let (len, dist) = m.longest(
            seg,
            p,
            first,
            prm.max_chain,
            prm.nice_len,
            max_len,
            MIN_MATCH - 1,
        );
        if enc.worth(len, dist, load32(seg, p)) {
            enc.block.matched(len, dist);
            if len <= prm.max_insert {
                insert_range(m, seg, p + 1, p + len);
            }
            p += len;
        } else {
            enc.block.literal(seg[p]);
            p += 1;
        }
    }
    for &b in &seg[p..] {
        enc.block.literal(b);
    }
}

/// The longest match at `q` longer than `best`, entering `q` first if it is not yet.
#[inline(always)]
fn find(
    m: &mut Matcher,
    seg: &[u8],
    q: usize,
    best: usize,
    entered: &mut usize,
    prm: &Params,
) -> (usize, usize) {
    let first = if q >= *entered {
        *entered = q + 1;
        m.insert(seg, q)
    } else {
        m.chain_of(q)
    };
    let max_len = (seg.len() - q).min(MAX_MATCH);
    m.longest(seg, q, first, prm.max_chain, prm.nice_len, max_len, best)
}

/// Greedy parsing of `seg` (which starts at `base` in the encoder's input) with the
/// one-entry hash table. The loop is software-pipelined: while deciding position `p` it
/// already looks up and compares the candidate of `p + 1` (the next position whenever
/// `p` becomes a literal), so that those memory accesses overlap with the work on `p`.
pub fn greedy_buckets(enc: &mut Encoder, m: &mut Buckets, seg: &[u8], base: usize, prm: &Params) {
    let n = seg.len();
    let mut p = 0;
    if n >= 5 {
        let mut x = load32(seg, 0);
        let mut i = m.slot(x);
        let mut cand = candidate(m.get(i), seg, 0, x);
        while p + 5 <= n {
            if enc.block.syms.len() >= prm.block_syms {
                enc.end_block(base + p, false);
            }
            // the next position, assuming this one ends up a literal
            let x1 = load32(seg, p + 1);
            let i1 = m.slot(x1);
            m.set(i, p);
            let cand1 = candidate(m.get(i1), seg, p + 1, x1);

            let max_len = (n - p).min(MAX_MATCH);
            let (len, dist) = best_match(cand, seg, p, max_len, enc.max_dist3);
            if len >= MIN_MATCH && enc.worth(len, dist, x) {
                enc.block.matched(len, dist);
                if len <= prm.max_insert {
                    let to = (p + len).min(n - 3);
                    for q in p + 1..to {
                        m.insert(seg, q);
                    }
                }
                p += len;
                if p + 5 > n {
                    break;
                }
                x = load32(seg, p);
                i = m.slot(x);
                cand = candidate(m.get(i), seg, p, x);
            } else {
                enc.block.literal(seg[p]);
                p += 1;
                (x, i, cand) = (x1, i1, cand1);
            }
        }
    }
    for &b in &seg[p..] {
        enc.block.literal(b);
    }
}
/// Lazy parsing of `seg` (which starts at `base` in the encoder's input).
pub fn lazy(enc: &mut Encoder, m: &mut Matcher, seg: &[u8], base: usize, prm: &Params) {
    let n = seg.len();
    let mut p = 0;
    // every position below `entered` is in the hash table (or was skipped on purpose)
    let mut entered = 0;
    while p + 4 <= n {
        if enc.block.syms.len() >= prm.block_syms {
            enc.end_block(base + p, false);
        }
        let (mut len, mut dist) = find(m, seg, p, MIN_MATCH - 1, &mut entered, prm);
        if !enc.worth(len, dist, load32(seg, p)) {
            enc.block.literal(seg[p]);
            p += 1;
            continue;
        }
        while len < prm.lazy_len && p + 5 <= n {
            let (l2, d2) = find(m, seg, p + 1, len, &mut entered, prm);
            if l2 > len && enc.worth(l2, d2, load32(seg, p + 1)) {
                enc.block.literal(seg[p]);
                p += 1;
                len = l2;
                dist = d2;
            } else {
                break;
            }
        }
        enc.block.matched(len, dist);
        let end = p + len;
        if len <= prm.max_insert {
            let from = (p + 1).max(entered);
            insert_range(m, seg, from, end);
        }
        entered = entered.max(end);
        p = end;
    }
    for &b in &seg[p..] {
        enc.block.literal(b);
    }
}
