//! Link names and paths: validation and splitting.

use super::error::{Error, Result};

/// Longest link or attribute name: its message must fit the 16-bit message size.
pub(crate) const MAX_NAME: usize = 65_000;

/// Checks that `name` can be one link or attribute name.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "a name must not be empty"
    } else if name.contains('/') {
        "a name must not contain '/'"
    } else if name.contains('\0') {
        "a name must not contain a NUL byte"
    } else if name == "." || name == ".." {
        "'.' and '..' are not valid names"
    } else if name.len() > MAX_NAME {
        "a name must be at most 65,000 bytes"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        name: name.to_string(),
        reason,
    })
}

/// Splits an absolute or group-relative path into its link names, each checked.
/// A single leading '/' is allowed; empty components ("a//b", a trailing '/') are not.
pub(crate) fn split(path: &str) -> Result<Vec<&str>> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = rest.split('/').collect();
    for p in &parts {
        if p.is_empty() {
            return Err(Error::InvalidName {
                name: path.to_string(),
                reason: "a path must not contain empty components",
            });
        }
        check_name(p).map_err(|_| Error::InvalidName {
            name: path.to_string(),
            reason: "a path component is not a valid name",
        })?;
    }
    Ok(parts)
}

/// Joins a group path and a child name.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("frames").is_ok());
        assert!(check_name("é ü").is_ok());
        for bad in ["", "a/b", ".", "..", "a\0b"] {
            assert!(
                matches!(check_name(bad), Err(Error::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn paths() {
        assert_eq!(split("/a/b").unwrap(), ["a", "b"]);
        assert_eq!(split("a").unwrap(), ["a"]);
        assert!(split("/").unwrap().is_empty());
        assert!(split("/a//b").is_err());
        assert!(split("/a/").is_err());
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/a", "x"), "/a/x");
    }
}
