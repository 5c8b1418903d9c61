//! What each compression level does: how hard the match finder searches, whether it
//! parses lazily, and how long blocks are.

/// Which match finder a level uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finder {
    /// The most recent position of each hash of 3 bytes in 2^bits slots, greedy parsing
    /// (`buckets.rs`): the fastest, and it finds the 3-byte matches numeric data needs.
    Buckets(u32),
    /// Hash chains (`matcher.rs`), searched `max_chain` deep; greedy or lazy parsing.
    Chains,
}

/// The match-finder and block settings of one level.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// The match finder.
    pub finder: Finder,
    /// Candidates examined per position (the hash-chain depth).
    pub max_chain: u32,
    /// A match this long ends the search at once.
    pub nice_len: usize,
    /// Lazy parsing: before taking a match shorter than this, look for a longer one at
    /// the next position (0: greedy parsing).
    pub lazy_len: usize,
    /// Matches up to this length have all their positions entered into the hash table;
    /// longer ones (runs, mostly) only their first and last few, which saves time.
    pub max_insert: usize,
    /// Length-3 matches farther than this are not worth their distance code.
    pub max_dist3: usize,
    /// Symbols per block before a new block (with new Huffman codes) starts.
    pub block_syms: usize,
}

/// The settings of `level` 1–9 (level 0 writes stored blocks and has none).
pub fn params(level: u8) -> Params {
    let p = |finder, max_chain, nice_len, lazy_len, max_insert| Params {
        finder,
        max_chain,
        nice_len,
        lazy_len,
        max_insert,
        max_dist3: 32768,
        block_syms: 16 * 1024,
    };
    use Finder::*;
    match level {
        0 | 1 => p(Buckets(17), 1, 258, 0, 16),
        2 => p(Chains, 4, 16, 0, 16),
        3 => p(Chains, 8, 32, 0, 32),
        4 => p(Chains, 16, 32, 8, 258),
        5 => p(Chains, 32, 64, 16, 258),
        6 => p(Chains, 128, 128, 32, 258),
        7 => p(Chains, 256, 258, 258, 258),
        8 => p(Chains, 1024, 258, 258, 258),
        _ => p(Chains, 4096, 258, 258, 258),
    }
}
