//! Huffman code construction for DEFLATE: code lengths from symbol frequencies with a
//! length limit (15 bits for literal/length and distance codes, 7 for the code-length code,
//! RFC 1951 §3.2.7), and the canonical codes those lengths define (§3.2.2).
//!
//! Lengths come from an ordinary Huffman tree built with two queues over the sorted
//! frequencies; in the rare case where that tree is deeper than the limit, the optimal
//! limited lengths are computed with the package-merge algorithm instead. Every code built
//! here is complete (its Kraft sum is exactly one), which zlib's inflate requires: a lone
//! used symbol is paired with an unused one so that it gets a one-bit code.

use alloc::vec::Vec;

/// Largest alphabet handled (the literal/length alphabet with its two reserved symbols).
const MAX_SYMS: usize = 288;

/// Fills `lens` with code lengths for `freqs` (same length), none longer than `limit`.
/// Symbols of frequency zero get length zero, unless only one symbol is used: then it
/// and one other symbol get length 1. With no symbol used, all lengths are zero.
pub fn code_lengths(freqs: &[u32], limit: u32, lens: &mut [u8]) {
    debug_assert!(freqs.len() == lens.len() && freqs.len() <= MAX_SYMS && freqs.len() >= 2);
    lens.fill(0);
    // (frequency, symbol), ascending
    let mut leaves = [(0u32, 0u16); MAX_SYMS];
    let mut n = 0;
    for (s, &f) in freqs.iter().enumerate() {
        if f > 0 {
            leaves[n] = (f, s as u16);
            n += 1;
        }
    }
    match n {
        0 => return,
        1 => {
            let s = leaves[0].1 as usize;
            lens[s] = 1;
            lens[if s == 0 { 1 } else { 0 }] = 1;
            return;
        }
        _ => {}
    }
    let leaves = &mut leaves[..n];
    leaves.sort_unstable();
    let mut depth = [0u8; MAX_SYMS];
    if huffman_depths(leaves, &mut depth) > limit {
        package_merge(leaves, limit, &mut depth);
    }
    for (leaf, &d) in leaves.iter().zip(depth.iter()) {
        lens[leaf.1 as usize] = d;
    }
}

/// Depth of each leaf (sorted ascending by frequency) in a Huffman tree; returns the
/// largest depth. Internal nodes are made in nondecreasing weight order, so they form the
/// second of the two queues the smallest weights are taken from.
fn huffman_depths(leaves: &[(u32, u16)], depth: &mut [u8; MAX_SYMS]) -> u32 {
    let n = leaves.len();
    let mut weight = [0u64; MAX_SYMS];
    // parent of leaf i is parent[i]; of internal node k (0-based) is parent[n + k]
    let mut parent = [0u16; 2 * MAX_SYMS];
    let (mut next_leaf, mut next_node, mut made) = (0usize, 0usize, 0usize);
    while made < n - 1 {
        let mut pick = |weight: &[u64; MAX_SYMS]| -> (u64, usize) {
            let take_leaf = next_leaf < n
                && (next_node >= made || u64::from(leaves[next_leaf].0) <= weight[next_node]);
            if take_leaf {
                next_leaf += 1;
                (u64::from(leaves[next_leaf - 1].0), next_leaf - 1)
            } else {
                next_node += 1;
                (weight[next_node - 1], n + next_node - 1)
            }
        };
        let (wa, a) = pick(&weight);
        let (wb, b) = pick(&weight);
        weight[made] = wa + wb;
        parent[a] = made as u16;
        parent[b] = made as u16;
        made += 1;
    }
    // the root is the last node made; parents are made after their children
    let mut node_depth = [0u8; MAX_SYMS];
    for k in (0..n - 2).rev() {
        node_depth[k] = node_depth[parent[n + k] as usize] + 1;
    }
    let mut max = 0;
    for i in 0..n {
        depth[i] = node_depth[parent[i] as usize] + 1;
        max = max.max(u32::from(depth[i]));
    }
    max
}

/// Optimal code lengths of at most `limit` bits for leaves sorted ascending by frequency
/// (package-merge): `limit` rounds each pair up the cheapest items of the previous list
/// into packages and merge them with the leaves; a leaf's code length is the number of
/// times it occurs in the cheapest 2n-2 items of the last list.
fn package_merge(leaves: &[(u32, u16)], limit: u32, depth: &mut [u8; MAX_SYMS]) {
    let n = leaves.len();
    debug_assert!(n <= 1 << limit);
    // node ids below n are leaves; id n + k is packages[k], the pair of two node ids
    let mut packages: Vec<(u32, u32)> = Vec::with_capacity(n * limit as usize);
    let leaf_items: Vec<(u64, u32)> = leaves
        .iter()
        .enumerate()
        .map(|(i, l)| (u64::from(l.0), i as u32))
        .collect();
    let mut list = leaf_items.clone();
    for _ in 1..limit {
        let mut merged = Vec::with_capacity(2 * n);
        let mut pairs = list
            .chunks_exact(2)
            .map(|p| (p[0].0 + p[1].0, p[0].1, p[1].1));
        let mut leaves_it = leaf_items.iter().peekable();
        let mut pending = pairs.next();
        loop {
            match (leaves_it.peek(), pending) {
                (Some(&&l), Some(p)) if l.0 <= p.0 => {
                    merged.push(l);
                    leaves_it.next();
                }
                (_, Some((w, a, b))) => {
                    packages.push((a, b));
                    merged.push((w, (n + packages.len() - 1) as u32));
                    pending = pairs.next();
                }
                (Some(&&l), None) => {
                    merged.push(l);
                    leaves_it.next();
                }
                (None, None) => break,
            }
        }
        list = merged;
    }
    depth[..n].fill(0);
    let mut stack: Vec<u32> = list[..2 * n - 2].iter().map(|i| i.1).collect();
    while let Some(id) = stack.pop() {
        let id = id as usize;
        if id < n {
            depth[id] += 1;
        } else {
            let (a, b) = packages[id - n];
            stack.push(a);
            stack.push(b);
        }
    }
}

/// The canonical codes of `lens` (RFC 1951 §3.2.2), each bit-reversed so that it can be
/// written least significant bit first.
pub fn canonical_codes(lens: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &l in lens {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (c, &l) in codes.iter_mut().zip(lens) {
        if l > 0 {
            let v = next[l as usize];
            next[l as usize] += 1;
            *c = v.reverse_bits() >> (16 - l);
        } else {
            *c = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft(lens: &[u8], limit: u32) -> u64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (limit - u32::from(l)))
            .sum()
    }

    #[test]
    fn rfc_example_codes() {
        // RFC 1951 §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes 010 011 100 101
        // 110 00 1110 1111 (here bit-reversed)
        let lens = [3, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lens, &mut codes);
        let want = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for i in 0..8 {
            assert_eq!(codes[i], (want[i] as u16).reverse_bits() >> (16 - lens[i]));
        }
    }

    #[test]
    fn lengths_are_complete_and_limited() {
        // Fibonacci frequencies make the deepest possible Huffman tree
        let mut fib = alloc::vec![1u32, 1];
        while fib.len() < 30 {
            let k = fib.len();
            fib.push(fib[k - 1] + fib[k - 2]);
        }
        for limit in [7u32, 9, 15] {
            let mut lens = alloc::vec![0u8; fib.len()];
            code_lengths(&fib, limit, &mut lens);
            assert!(
                lens.iter().all(|&l| l >= 1 && u32::from(l) <= limit),
                "{lens:?}"
            );
            assert_eq!(kraft(&lens, limit), 1 << limit, "{lens:?}");
        }
        // unlimited result on a plain distribution: optimal and complete
        let freqs = [10u32, 1, 1, 2, 0, 5];
        let mut lens = [0u8; 6];
        code_lengths(&freqs, 15, &mut lens);
        assert_eq!(lens, [1, 4, 4, 3, 0, 2]);
        // one symbol: a one-bit code with a partner
        let mut lens = [0u8; 4];
        code_lengths(&[0, 0, 7, 0], 15, &mut lens);
        assert_eq!(lens, [1, 0, 1, 0]);
    }

    #[test]
    fn package_merge_matches_huffman_when_the_limit_is_loose() {
        let leaves: alloc::vec::Vec<(u32, u16)> = [1u32, 1, 2, 3, 5, 9, 30, 31]
            .iter()
            .enumerate()
            .map(|(i, &f)| (f, i as u16))
            .collect();
        let (mut a, mut b) = ([0u8; MAX_SYMS], [0u8; MAX_SYMS]);
        huffman_depths(&leaves, &mut a);
        package_merge(&leaves, 15, &mut b);
        let cost = |d: &[u8; MAX_SYMS]| -> u32 {
            leaves.iter().zip(d).map(|(l, &x)| l.0 * u32::from(x)).sum()
        };
        assert_eq!(cost(&a), cost(&b));
    }
}
