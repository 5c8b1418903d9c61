//! The reader's error type: every error names the on-disk structure and the file
//! offset where the problem was found.

use core::fmt;

/// The on-disk structure an [`Error`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Structure {
    /// The whole file (its length).
    File,
    /// The superblock at offset 0.
    Superblock,
    /// Chunk 0 of a version-2 object header ("OHDR").
    ObjectHeader,
    /// A continuation chunk of an object header ("OCHK").
    ContinuationChunk,
    /// A header message of the given type that no more specific variant names.
    Message(u8),
    /// A dataspace message (0x01), or the dataspace inside an attribute.
    Dataspace,
    /// A link info message (0x02).
    LinkInfo,
    /// A datatype message (0x03), or the datatype inside an attribute.
    Datatype,
    /// A fill value message (0x05 or the old 0x04).
    FillValue,
    /// A link message (0x06).
    Link,
    /// A data layout message (0x08).
    Layout,
    /// A group info message (0x0A).
    GroupInfo,
    /// A filter pipeline message (0x0B).
    FilterPipeline,
    /// An attribute message (0x0C).
    Attribute,
    /// An attribute info message (0x15).
    AttributeInfo,
    /// An object header continuation message (0x10).
    Continuation,
    /// A version-1 B-tree node ("TREE") of a chunk index.
    BTreeNode,
    /// A raw data chunk of a chunked dataset.
    Chunk,
    /// The raw data block of a contiguous dataset.
    ContiguousData,
    /// A global heap collection ("GCOL").
    GlobalHeap,
    /// A group, as a whole (offset: its object header).
    Group,
    /// A symbol table message (0x11) of an old-style group.
    SymbolTable,
    /// A local heap ("HEAP") holding an old-style group's link names.
    LocalHeap,
    /// A version-1 B-tree node ("TREE", type 0) of an old-style group.
    GroupBTreeNode,
    /// A symbol table node ("SNOD") of an old-style group.
    SymbolTableNode,
    /// A dataset, as a whole (offset: its object header).
    Dataset,
    /// A fixed array header ("FAHD") of a chunk index.
    FixedArrayHeader,
    /// A fixed array data block ("FADB").
    FixedArrayDataBlock,
    /// A page of a paged fixed array data block (elements and a checksum).
    FixedArrayPage,
    /// An extensible array header ("EAHD") of a chunk index.
    ExtensibleArrayHeader,
    /// An extensible array index block ("EAIB").
    ExtensibleArrayIndexBlock,
    /// An extensible array secondary block ("EASB", the spec's super block).
    ExtensibleArraySecondaryBlock,
    /// An extensible array data block ("EADB").
    ExtensibleArrayDataBlock,
    /// A page of a paged extensible array data block.
    ExtensibleArrayPage,
    /// A version-2 B-tree header ("BTHD"): of a chunk index, a name or creation-order
    /// index of dense links or attributes, or a fractal heap's huge objects.
    BTreeV2Header,
    /// A version-2 B-tree internal node ("BTIN").
    BTreeV2Internal,
    /// A version-2 B-tree leaf node ("BTLF").
    BTreeV2Leaf,
    /// A fractal heap header ("FRHP") of dense link or attribute storage.
    FractalHeapHeader,
    /// A fractal heap direct block ("FHDB").
    FractalHeapDirectBlock,
    /// A fractal heap indirect block ("FHIB").
    FractalHeapIndirectBlock,
    /// A huge object of a fractal heap (stored outside its blocks).
    HugeObject,
    /// A free-space manager header ("FSHD") of a fractal heap.
    FreeSpaceHeader,
    /// A free-space section list ("FSSE").
    FreeSpaceSections,
    /// Dense link or attribute storage as a whole (offset: the object header).
    DenseStorage,
}

impl Structure {
    /// A short human-readable name.
    pub fn name(&self) -> &'static str {
        match self {
            Structure::File => "file",
            Structure::Superblock => "superblock",
            Structure::ObjectHeader => "object header",
            Structure::ContinuationChunk => "object header continuation chunk",
            Structure::Message(_) => "header message",
            Structure::Dataspace => "dataspace message",
            Structure::LinkInfo => "link info message",
            Structure::Datatype => "datatype message",
            Structure::FillValue => "fill value message",
            Structure::Link => "link message",
            Structure::Layout => "data layout message",
            Structure::GroupInfo => "group info message",
            Structure::FilterPipeline => "filter pipeline message",
            Structure::Attribute => "attribute message",
            Structure::AttributeInfo => "attribute info message",
            Structure::Continuation => "continuation message",
            Structure::BTreeNode => "v1 B-tree node",
            Structure::Chunk => "raw data chunk",
            Structure::ContiguousData => "contiguous raw data",
            Structure::GlobalHeap => "global heap collection",
            Structure::Group => "group",
            Structure::SymbolTable => "symbol table message",
            Structure::LocalHeap => "local heap",
            Structure::GroupBTreeNode => "group B-tree node",
            Structure::SymbolTableNode => "symbol table node",
            Structure::Dataset => "dataset",
            Structure::FixedArrayHeader => "fixed array header (FAHD)",
            Structure::FixedArrayDataBlock => "fixed array data block (FADB)",
            Structure::FixedArrayPage => "fixed array data block page",
            Structure::ExtensibleArrayHeader => "extensible array header (EAHD)",
            Structure::ExtensibleArrayIndexBlock => "extensible array index block (EAIB)",
            Structure::ExtensibleArraySecondaryBlock => "extensible array secondary block (EASB)",
            Structure::ExtensibleArrayDataBlock => "extensible array data block (EADB)",
            Structure::ExtensibleArrayPage => "extensible array data block page",
            Structure::BTreeV2Header => "v2 B-tree header (BTHD)",
            Structure::BTreeV2Internal => "v2 B-tree internal node (BTIN)",
            Structure::BTreeV2Leaf => "v2 B-tree leaf node (BTLF)",
            Structure::FractalHeapHeader => "fractal heap header (FRHP)",
            Structure::FractalHeapDirectBlock => "fractal heap direct block (FHDB)",
            Structure::FractalHeapIndirectBlock => "fractal heap indirect block (FHIB)",
            Structure::HugeObject => "huge fractal heap object",
            Structure::FreeSpaceHeader => "free-space manager header (FSHD)",
            Structure::FreeSpaceSections => "free-space section list (FSSE)",
            Structure::DenseStorage => "dense storage",
        }
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Structure::Message(t) => write!(f, "header message 0x{t:02x}"),
            s => f.write_str(s.name()),
        }
    }
}

/// Everything the reader can find wrong with a file, or with a request.
///
/// Every variant carries the [`Structure`] concerned and the file `offset` where it
/// starts (for messages: where the message body starts; for B-tree key problems:
/// the node holding the key). [`Error::structure`] and [`Error::offset`] read them
/// from any variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is shorter than the end-of-file address stored in the superblock
    /// (libhdf5 refuses to open it: "truncated file").
    #[error("{structure} at {offset:#x}: the file has {file_len} bytes, fewer than the stored end of file {eof}")]
    ShortFile {
        /// Always [`Structure::Superblock`].
        structure: Structure,
        /// Offset of the superblock.
        offset: u64,
        /// The stored end-of-file address.
        eof: u64,
        /// The actual length of the input.
        file_len: u64,
    },
    /// A structure (or a referenced extent) reaches to or past the stored end of file,
    /// or its address is undefined. libhdf5 fails such reads with "addr overflow".
    #[error("{structure} at {offset:#x}: {len} bytes reach past the end of file {eof}")]
    PastEof {
        /// What was to be read.
        structure: Structure,
        /// Its address.
        offset: u64,
        /// Its length.
        len: u64,
        /// The stored end-of-file address.
        eof: u64,
    },
    /// The bytes of a structure end before one of its fields (a message body or a
    /// chunk that is too short for what it declares).
    #[error("{structure} at {offset:#x}: truncated: {needed} bytes needed, {available} available")]
    Short {
        /// The structure being decoded.
        structure: Structure,
        /// Its offset.
        offset: u64,
        /// Bytes the next field needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// The signature ("\x89HDF\r\n\x1a\n", "OHDR", "OCHK", "TREE", "GCOL", "FAHD",
    /// "FADB", "EAHD", "EAIB", "EASB", "EADB", "BTHD", "BTIN", "BTLF", ...) is wrong.
    #[error("{structure} at {offset:#x}: bad signature")]
    BadSignature {
        /// The structure expected.
        structure: Structure,
        /// Where it was expected.
        offset: u64,
    },
    /// An unknown version number.
    #[error("{structure} at {offset:#x}: unsupported version {version}")]
    BadVersion {
        /// The structure.
        structure: Structure,
        /// Its offset.
        offset: u64,
        /// The version found.
        version: u8,
    },
    /// A lookup3 checksum does not match.
    #[error("{structure} at {offset:#x}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadChecksum {
        /// The checksummed structure.
        structure: Structure,
        /// Its offset.
        offset: u64,
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// A field holds a value the format does not allow, or values contradict each
    /// other.
    #[error("{structure} at {offset:#x}: {reason}")]
    Malformed {
        /// The structure.
        structure: Structure,
        /// Its offset.
        offset: u64,
        /// What is wrong, with the values involved.
        reason: String,
    },
    /// A valid HDF5 feature this reader does not handle (h5sink never writes it).
    #[error("{structure} at {offset:#x}: unsupported: {feature}")]
    Unsupported {
        /// The structure.
        structure: Structure,
        /// Its offset.
        offset: u64,
        /// The feature.
        feature: &'static str,
    },
    /// A B-tree node of another type than 1 (raw data chunks).
    #[error("{structure} at {offset:#x}: node type {found}, expected 1 (chunk index)")]
    BTreeNodeType {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// The type found.
        found: u8,
    },
    /// A B-tree node whose level is not its parent's level minus one (libhdf5 does not
    /// check: it follows the node's own level, and so do reads).
    #[error("{structure} at {offset:#x}: level {found}, but its parent at {parent:#x} expects level {expected}")]
    BTreeLevel {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The child node's address.
        offset: u64,
        /// The parent node's address.
        parent: u64,
        /// Parent level - 1.
        expected: u8,
        /// The level stored in the child.
        found: u8,
    },
    /// A B-tree node using more entries than its 2K capacity.
    #[error("{structure} at {offset:#x}: {entries} entries, more than the maximum {max}")]
    BTreeEntries {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// Entries used, as stored.
        entries: u16,
        /// 2K.
        max: u16,
    },
    /// Keys of a B-tree node are not strictly increasing: key `index` (in chunk units)
    /// is not below key `index + 1`.
    #[error("{structure} at {offset:#x}: key {index} {left:?} is not below key {} {right:?}", index + 1)]
    BTreeKeyOrder {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// Index of the first key of the offending pair.
        index: usize,
        /// Key `index`, scaled to chunk units.
        left: Vec<u64>,
        /// Key `index + 1`, scaled to chunk units.
        right: Vec<u64>,
    },
    /// A child node's entries leave the range its ancestors' keys give it: from its
    /// parent's key left of it up to (excluding) the tightest right key among its
    /// ancestors. Lookups cannot reach the entries outside.
    #[error("{structure} at {offset:#x}: keys {first:?}..={last:?} leave the range {low:?}..{high:?} of entry {index} of parent {parent:#x}")]
    BTreeKeyRange {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The child node's address.
        offset: u64,
        /// The parent node's address.
        parent: u64,
        /// Which child of the parent.
        index: usize,
        /// The child's first key (scaled).
        first: Vec<u64>,
        /// The child's last entry key (scaled).
        last: Vec<u64>,
        /// The parent's key left of the child (scaled).
        low: Vec<u64>,
        /// The tightest right key among the ancestors (scaled): entries must be below.
        high: Vec<u64>,
    },
    /// A B-tree node that is its own ancestor: libhdf5 lookups through it never end.
    #[error("{structure} at {offset:#x}: B-tree cycle: the node is its own ancestor (reached again from {parent:#x})")]
    BTreeCycle {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// The node that pointed back at it.
        parent: u64,
    },
    /// A B-tree node reached a second time, not through a cycle (two parents, or two
    /// entries, share a child).
    #[error("{structure} at {offset:#x}: node reached twice (from {parent:#x})")]
    BTreeNodeReused {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// The node that pointed at it the second time.
        parent: u64,
    },
    /// A key of a B-tree node (other than a leaf entry's) that is not a multiple of
    /// the chunk dims (libhdf5 2.0 refuses to load the node: "bad coordinate offset").
    #[error("{structure} at {offset:#x}: key {index} {key:?} is not a multiple of the chunk dims")]
    BTreeKeyMisaligned {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node's address.
        offset: u64,
        /// Key index in the node.
        index: usize,
        /// The key's element offsets (rank + 1 values, as stored).
        key: Vec<u64>,
    },
    /// A right-sibling pointer that leads to a node that cannot be read, or back into
    /// its own level (a cycle). libhdf5 walks these pointers to size a chunk index
    /// (`H5B_get_info`, used by h5stat and h5py's `visititems`), which then fails or
    /// never ends; reading data does not use them.
    #[error("{structure} at {offset:#x}: right sibling {target:#x}: {cause}")]
    SiblingChain {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The node holding the pointer.
        offset: u64,
        /// The pointer's value.
        target: u64,
        /// What is wrong at the target.
        cause: Box<Error>,
    },
    /// A stored chunk that its filters cannot decode (corrupt stream, Fletcher-32
    /// mismatch, wrong decoded size).
    #[error("{structure} at {offset:#x}: cannot decode: {reason}")]
    ChunkDecode {
        /// Always [`Structure::Chunk`].
        structure: Structure,
        /// The chunk's address.
        offset: u64,
        /// What the filter reported.
        reason: String,
    },
    /// A chunk offset that is not a multiple of the chunk dims (or whose element-size
    /// coordinate is not 0).
    #[error("{structure} at {offset:#x}: entry {entry}: chunk offset {chunk:?} is not a multiple of the chunk dims")]
    ChunkMisaligned {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The leaf node's address.
        offset: u64,
        /// Entry index in the leaf.
        entry: usize,
        /// The chunk's element offsets (rank + 1 values, as stored).
        chunk: Vec<u64>,
    },
    /// A chunk that starts outside the dataset's maximum dims.
    #[error("{structure} at {offset:#x}: entry {entry}: chunk offset {chunk:?} lies outside the maximum dims {max_dims:?}")]
    ChunkOutsideMaxDims {
        /// [`Structure::BTreeNode`] for the v1 B-tree; for layout v4/v5 indexes the
        /// index's first structure (its header).
        structure: Structure,
        /// The leaf node's address (v1 B-tree), or the index header's.
        offset: u64,
        /// Entry index in the leaf.
        entry: usize,
        /// The chunk's element offsets.
        chunk: Vec<u64>,
        /// The dataset's maximum dims.
        max_dims: Vec<u64>,
    },
    /// A chunk whose stored size is not the size of an unfiltered chunk.
    #[error("{structure} at {offset:#x}: entry {entry}: chunk size {size}, expected {expected}")]
    ChunkSize {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The leaf node's address.
        offset: u64,
        /// Entry index in the leaf.
        entry: usize,
        /// The stored size.
        size: u32,
        /// Chunk dims × element size.
        expected: u64,
    },
    /// A chunk listed in a leaf that a libhdf5 lookup of its own offset does not find
    /// (it finds `found` instead, or nothing): the keys around it are inconsistent.
    #[error("{structure} at {offset:#x}: entry {entry}: chunk {chunk:?} at {addr:#x} is not found by a lookup (finds {found:?})")]
    ChunkUnreachable {
        /// Always [`Structure::BTreeNode`].
        structure: Structure,
        /// The leaf node's address.
        offset: u64,
        /// Entry index in the leaf.
        entry: usize,
        /// The chunk's element offsets.
        chunk: Vec<u64>,
        /// The chunk's address.
        addr: u64,
        /// What a lookup returns instead.
        found: Option<u64>,
    },
    /// Two links of one group have the same name.
    #[error("{structure} at {offset:#x}: duplicate link name {name:?}")]
    DuplicateLink {
        /// Always [`Structure::Group`].
        structure: Structure,
        /// The group's object header.
        offset: u64,
        /// The name.
        name: String,
    },
    /// Two attributes of one object have the same name.
    #[error("{structure} at {offset:#x}: duplicate attribute name {name:?}")]
    DuplicateAttribute {
        /// Always [`Structure::ObjectHeader`].
        structure: Structure,
        /// The object header.
        offset: u64,
        /// The name.
        name: String,
    },
    /// Two structures occupy overlapping bytes of the file.
    #[error(
        "{structure} at {offset:#x} (+{len}) overlaps {other} at {other_offset:#x} (+{other_len})"
    )]
    Overlap {
        /// The structure starting later.
        structure: Structure,
        /// Its address.
        offset: u64,
        /// Its length.
        len: u64,
        /// The structure it overlaps.
        other: Structure,
        /// That structure's address.
        other_offset: u64,
        /// That structure's length.
        other_len: u64,
    },
    /// A path that names no object (`offset`: the last group reached).
    #[error("{structure} at {offset:#x}: {path:?} not found")]
    NotFound {
        /// Always [`Structure::Group`].
        structure: Structure,
        /// Object header of the group where the lookup stopped.
        offset: u64,
        /// The path looked up.
        path: String,
    },
    /// A path names an object of the wrong kind (a group where a dataset is needed,
    /// or the reverse).
    #[error("{structure} at {offset:#x}: {path:?} is not a {expected}")]
    WrongKind {
        /// What the object is.
        structure: Structure,
        /// Its object header.
        offset: u64,
        /// The path.
        path: String,
        /// What was needed.
        expected: &'static str,
    },
    /// A dataset's data would exceed the output limit (see
    /// [`super::File::dataset_bytes_limited`]).
    #[error("{structure} at {offset:#x}: {bytes} bytes of data exceed the limit of {limit}")]
    TooLarge {
        /// Always [`Structure::Dataset`].
        structure: Structure,
        /// The dataset's object header.
        offset: u64,
        /// Bytes the data needs (saturated at `u64::MAX`).
        bytes: u64,
        /// The limit in force.
        limit: u64,
    },
}

impl Error {
    /// The structure the error is about.
    pub fn structure(&self) -> Structure {
        match self {
            Error::ShortFile { structure, .. }
            | Error::PastEof { structure, .. }
            | Error::Short { structure, .. }
            | Error::BadSignature { structure, .. }
            | Error::BadVersion { structure, .. }
            | Error::BadChecksum { structure, .. }
            | Error::Malformed { structure, .. }
            | Error::Unsupported { structure, .. }
            | Error::BTreeNodeType { structure, .. }
            | Error::BTreeLevel { structure, .. }
            | Error::BTreeEntries { structure, .. }
            | Error::BTreeKeyOrder { structure, .. }
            | Error::BTreeKeyRange { structure, .. }
            | Error::BTreeCycle { structure, .. }
            | Error::BTreeNodeReused { structure, .. }
            | Error::BTreeKeyMisaligned { structure, .. }
            | Error::SiblingChain { structure, .. }
            | Error::ChunkDecode { structure, .. }
            | Error::ChunkMisaligned { structure, .. }
            | Error::ChunkOutsideMaxDims { structure, .. }
            | Error::ChunkSize { structure, .. }
            | Error::ChunkUnreachable { structure, .. }
            | Error::DuplicateLink { structure, .. }
            | Error::DuplicateAttribute { structure, .. }
            | Error::Overlap { structure, .. }
            | Error::NotFound { structure, .. }
            | Error::WrongKind { structure, .. }
            | Error::TooLarge { structure, .. } => *structure,
        }
    }

    /// The file offset the error is about.
    pub fn offset(&self) -> u64 {
        match self {
            Error::ShortFile { offset, .. }
            | Error::PastEof { offset, .. }
            | Error::Short { offset, .. }
            | Error::BadSignature { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::BadChecksum { offset, .. }
            | Error::Malformed { offset, .. }
            | Error::Unsupported { offset, .. }
            | Error::BTreeNodeType { offset, .. }
            | Error::BTreeLevel { offset, .. }
            | Error::BTreeEntries { offset, .. }
            | Error::BTreeKeyOrder { offset, .. }
            | Error::BTreeKeyRange { offset, .. }
            | Error::BTreeCycle { offset, .. }
            | Error::BTreeNodeReused { offset, .. }
            | Error::BTreeKeyMisaligned { offset, .. }
            | Error::SiblingChain { offset, .. }
            | Error::ChunkDecode { offset, .. }
            | Error::ChunkMisaligned { offset, .. }
            | Error::ChunkOutsideMaxDims { offset, .. }
            | Error::ChunkSize { offset, .. }
            | Error::ChunkUnreachable { offset, .. }
            | Error::DuplicateLink { offset, .. }
            | Error::DuplicateAttribute { offset, .. }
            | Error::Overlap { offset, .. }
            | Error::NotFound { offset, .. }
            | Error::WrongKind { offset, .. }
            | Error::TooLarge { offset, .. } => *offset,
        }
    }
}

/// Shorthand for results of the reader.
pub type Result<T, E = Error> = core::result::Result<T, E>;

pub(crate) fn malformed(structure: Structure, offset: u64, reason: impl Into<String>) -> Error {
    Error::Malformed {
        structure,
        offset,
        reason: reason.into(),
    }
}

pub(crate) fn unsupported(structure: Structure, offset: u64, feature: &'static str) -> Error {
    Error::Unsupported {
        structure,
        offset,
        feature,
    }
}
