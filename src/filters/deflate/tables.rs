//! The constant tables of RFC 1951 §3.2.5 and §3.2.6: the base value and extra-bit count
//! of each length symbol (257–285) and distance symbol (0–29), the lookups from a length or
//! a distance to its symbol, and the code lengths of the fixed Huffman codes.

/// Shortest match DEFLATE can express.
pub const MIN_MATCH: usize = 3;
/// Longest match DEFLATE can express.
pub const MAX_MATCH: usize = 258;
/// Farthest distance DEFLATE can express (the 32 KiB window).
pub const WINDOW: usize = 32768;

/// Number of literal/length symbols that may appear in a block (0–285).
pub const NUM_LITLEN: usize = 286;
/// Number of distance symbols that may appear in a block (0–29).
pub const NUM_DIST: usize = 30;
/// End-of-block symbol.
pub const END_OF_BLOCK: usize = 256;

/// Smallest length of each length symbol 257 + i.
pub const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// Extra bits after length symbol 257 + i.
pub const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Smallest distance of each distance symbol.
pub const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
/// Extra bits after each distance symbol.
pub const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// For a match length 0..=258: the index i of its length symbol 257 + i (0 below 3).
pub static LEN_INDEX: [u8; MAX_MATCH + 1] = len_index();

const fn len_index() -> [u8; MAX_MATCH + 1] {
    let mut t = [0u8; MAX_MATCH + 1];
    let mut i = 0;
    while i < 29 {
        // symbol 284 stops at 257: 258 has its own symbol 285
        let hi = if i == 28 {
            258
        } else {
            LEN_BASE[i + 1] as usize - 1
        };
        let mut len = LEN_BASE[i] as usize;
        while len <= hi {
            t[len] = i as u8;
            len += 1;
        }
        i += 1;
    }
    t
}

/// Distance symbol of distances 1..=256, indexed by distance - 1.
static DIST_SMALL: [u8; 256] = dist_small();
/// Distance symbol of distances 257..=32768, indexed by (distance - 1) >> 7: every symbol
/// from 16 on starts at a multiple of 128 plus one, so this coarse table is exact.
static DIST_LARGE: [u8; 256] = dist_large();

const fn dist_small() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut code = 0;
    while code < 16 {
        let lo = DIST_BASE[code] as usize - 1;
        let hi = DIST_BASE[code + 1] as usize - 1;
        let mut d = lo;
        while d < hi {
            t[d] = code as u8;
            d += 1;
        }
        code += 1;
    }
    t
}

const fn dist_large() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut code = 16;
    while code < 30 {
        let lo = (DIST_BASE[code] as usize - 1) >> 7;
        let hi = if code == 29 {
            256
        } else {
            (DIST_BASE[code + 1] as usize - 1) >> 7
        };
        let mut k = lo;
        while k < hi {
            t[k] = code as u8;
            k += 1;
        }
        code += 1;
    }
    t
}

/// The distance symbol (0–29) of a distance 1..=32768.
#[inline(always)]
pub fn dist_symbol(dist: u32) -> usize {
    let d = (dist - 1) as usize;
    if d < 256 {
        DIST_SMALL[d] as usize
    } else {
        DIST_LARGE[(d >> 7) & 255] as usize
    }
}

/// Code lengths of the fixed literal/length code (RFC 1951 §3.2.6), 288 symbols.
pub const FIXED_LITLEN_LENS: [u8; 288] = fixed_litlen();
/// Code lengths of the fixed distance code: 5 bits for all 30 (32) symbols.
pub const FIXED_DIST_LENS: [u8; 32] = [5; 32];

const fn fixed_litlen() -> [u8; 288] {
    let mut t = [0u8; 288];
    let mut i = 0;
    while i < 288 {
        t[i] = if i < 144 {
            8
        } else if i < 256 {
            9
        } else if i < 280 {
            7
        } else {
            8
        };
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_and_distance_maps_into_its_symbol_range() {
        for (len, &i) in LEN_INDEX.iter().enumerate().skip(MIN_MATCH) {
            let i = i as usize;
            let base = LEN_BASE[i] as usize;
            assert!(
                len >= base && len - base < (1 << LEN_EXTRA[i]).max(1),
                "{len}"
            );
            if i < 28 {
                assert!(len < LEN_BASE[i + 1] as usize);
            }
        }
        assert_eq!(LEN_INDEX[258], 28);
        assert_eq!(LEN_INDEX[257], 27);
        for d in 1..=WINDOW as u32 {
            let c = dist_symbol(d);
            let base = u32::from(DIST_BASE[c]);
            assert!(d >= base && d - base < (1u32 << DIST_EXTRA[c]), "{d}");
        }
    }
}
