//! One module per on-disk structure: plain structs and their encoders.
//!
//! Pure and `no_std` + `alloc`: nothing here knows about files. Each structure's
//! layout, spec section and reader checks are described in `spec-notes/`.

pub mod attribute;
pub mod btree_v1;
pub mod dataspace;
pub mod datatype;
pub mod fill_value;
pub mod filter_pipeline;
pub mod global_heap;
pub mod layout;
pub mod link;
pub mod object_header;
pub mod superblock;
pub mod symbol_table;

pub use crate::encode::{Sizes, UNDEF};

/// The 8-byte HDF5 format signature that starts every superblock.
pub const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', 0x0d, 0x0a, 0x1a, 0x0a];

/// Object header message type numbers (spec IV.A.2).
pub mod msg_type {
    /// NIL: free space inside a header chunk.
    pub const NIL: u8 = 0x00;
    /// Dataspace.
    pub const DATASPACE: u8 = 0x01;
    /// Link info (new-style groups).
    pub const LINK_INFO: u8 = 0x02;
    /// Datatype.
    pub const DATATYPE: u8 = 0x03;
    /// Fill value (new).
    pub const FILL_VALUE: u8 = 0x05;
    /// Link.
    pub const LINK: u8 = 0x06;
    /// Data layout.
    pub const LAYOUT: u8 = 0x08;
    /// Group info (new-style groups).
    pub const GROUP_INFO: u8 = 0x0A;
    /// Filter pipeline.
    pub const FILTER_PIPELINE: u8 = 0x0B;
    /// Attribute.
    pub const ATTRIBUTE: u8 = 0x0C;
    /// Attribute info.
    pub const ATTRIBUTE_INFO: u8 = 0x15;
    /// Object header continuation.
    pub const CONTINUATION: u8 = 0x10;
    /// Symbol table (old-style groups).
    pub const SYMBOL_TABLE: u8 = 0x11;
}

/// Object header message flag: the message is constant (never changes).
pub const MSG_FLAG_CONSTANT: u8 = 0x01;
