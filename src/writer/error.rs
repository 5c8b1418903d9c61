//! The writer's error type: every failure names the object and what was wrong.

use std::io;

/// Everything that can go wrong while writing a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The storage failed. `op` says what the writer was doing, `offset` where.
    #[error("I/O error while {op} at file offset {offset}: {source}")]
    Io {
        /// What the writer was doing.
        op: &'static str,
        /// File offset of the failed operation.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A link or attribute name that HDF5 cannot hold or that a path cannot reach.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The offending name or path.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A link or attribute with this name already exists.
    #[error("{path}: already exists")]
    AlreadyExists {
        /// Path of the object (and attribute name, after `@`).
        path: String,
    },
    /// A path names an object that does not exist (or is not a group where one is needed).
    #[error("{path}: {reason}")]
    NotFound {
        /// The path looked up.
        path: String,
        /// What was missing.
        reason: &'static str,
    },
    /// A request that does not fit the object: a bad shape, chunk, type or region.
    #[error("{object}: {message}")]
    Invalid {
        /// Path of the object concerned.
        object: String,
        /// What was wrong, with the values involved.
        message: String,
    },
    /// A datatype that cannot be stored as given, or a value that does not fit its
    /// datatype (an enumeration value that is no member, a string too long or not in
    /// its character set, ...). Nothing was written.
    #[error("{object}: {source}")]
    Type {
        /// Path of the object concerned (and attribute name, after `@`).
        object: String,
        /// What was wrong.
        #[source]
        source: crate::format::datatype::TypeError,
    },
    /// An earlier I/O error interrupted a commit; the writer refuses further writes.
    /// The file on disk is still valid as of the last completed commit.
    #[error("the writer is poisoned by an earlier error: {0}")]
    Poisoned(String),
    /// The file was finished (closed); its handles can no longer write.
    #[error("the file is already finished")]
    Finished,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn type_error(object: &str, source: crate::format::datatype::TypeError) -> Error {
    Error::Type {
        object: object.to_string(),
        source,
    }
}

pub(crate) fn invalid(object: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        object: object.to_string(),
        message: message.into(),
    }
}
