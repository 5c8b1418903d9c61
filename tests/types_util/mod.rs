//! Helpers shared by the `tests/types_*.rs` files: run a Python check against a file
//! with h5py, run h5dump, make temporary directories.
//!
//! Python: `$H5SINK_PYTHON`, else `<crate>/.venv/bin/python` (made by
//! `scripts/setup-test-env.sh`). Tests that need it fail, never skip, without it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Python run before every check: defines `same(got, want, what)`: equal dtype (names, offsets, item size, byte order) and
/// shape, then equal values field by field, recursively; floats compared bit for bit.
const PRELUDE: &str = r#"
import sys, h5py, numpy as np

def same(got, want, what):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype!r} != {want.dtype!r}"
    assert got.dtype.itemsize == want.dtype.itemsize, f"{what}: itemsize {got.dtype.itemsize} != {want.dtype.itemsize}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.names:
        assert got.dtype.names == want.dtype.names, f"{what}: names {got.dtype.names} != {want.dtype.names}"
        for n in got.dtype.names:
            same(got[n], want[n], f"{what}.{n}")
    elif got.dtype.subdtype is not None:
        same(got.reshape(got.shape), want, what)
    elif got.dtype.kind in 'fc':
        n = got.dtype.itemsize
        a = np.ascontiguousarray(got).reshape(-1).view(np.uint8).reshape(-1, n)
        b = np.ascontiguousarray(want).reshape(-1).view(np.uint8).reshape(-1, n)
        bad = np.flatnonzero((a != b).any(axis=1))
        if len(bad):
            g, w = got.reshape(-1), want.reshape(-1)
            raise AssertionError(f"{what}: values differ at flat index {bad[:5]}: {g[bad[:5]]} != {w[bad[:5]]}")
    else:
        if not np.array_equal(got, want):
            g, w = got.reshape(-1), want.reshape(-1)
            bad = np.flatnonzero(g != w)
            raise AssertionError(f"{what}: values differ at flat index {bad[:5]}: {g[bad[:5]]} != {w[bad[:5]]}")

def ds(path, want):
    same(f[path][()], want, path)

def at(path, name, want):
    same(f[path].attrs[name], want, f"{path}@{name}")
"#;

pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("H5SINK_PYTHON") {
        return p.into();
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no Python venv with h5py at {p:?}: run scripts/setup-test-env.sh"
    );
    p
}

/// Runs `body` (after [`PRELUDE`]) on `file`, opened as `f`, with h5py; panics with
/// Python's output if it fails. Returns what it printed.
pub fn h5py_check(file: &Path, body: &str) -> String {
    let script = format!("{PRELUDE}\nf = h5py.File(sys.argv[1], 'r')\n{body}\nf.close()\n");
    let out = Command::new(python())
        .arg("-c")
        .arg(&script)
        .arg(file)
        .output()
        .expect("running python (run scripts/setup-test-env.sh)");
    assert!(
        out.status.success(),
        "h5py check of {} failed:\n{}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs each `(file, label, body)` check in ONE Python process (h5py's import costs
/// about 0.3 s); panics listing every failing check with its label and error.
pub fn h5py_check_many(checks: &[(PathBuf, String, String)]) {
    let dir = tempdir();
    let mut script = format!("{PRELUDE}\nimport traceback\nfailures = []\n");
    for (i, (file, label, body)) in checks.iter().enumerate() {
        let body_path = dir.path().join(format!("check{i}.py"));
        std::fs::write(&body_path, body).unwrap();
        script.push_str(&format!(
            "f = h5py.File({file:?}, 'r')\ntry:\n    exec(open({body_path:?}).read())\nexcept Exception:\n    failures.append(({label:?}, traceback.format_exc()))\nf.close()\n"
        ));
    }
    script.push_str(
        "for label, tb in failures:\n    print('FAILED', label, '\\n', tb)\nsys.exit(1 if failures else 0)\n",
    );
    let script_path = dir.path().join("checks.py");
    std::fs::write(&script_path, &script).unwrap();
    let out = Command::new(python())
        .arg(&script_path)
        .output()
        .expect("running python (run scripts/setup-test-env.sh)");
    assert!(
        out.status.success(),
        "h5py checks failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `h5dump ARGS FILE`; panics unless it succeeds without an error message.
/// Returns its standard output.
pub fn h5dump(args: &[&str], file: &Path) -> String {
    let out = Command::new("h5dump")
        .args(args)
        .arg(file)
        .output()
        .expect("running h5dump (run scripts/setup-test-env.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("rror"),
        "h5dump {args:?} {} failed: {}\n{}",
        file.display(),
        stderr,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh temporary directory (kept when `$H5SINK_KEEP_TMP` is set).
pub fn tempdir() -> tempfile::TempDir {
    let mut dir = tempfile::Builder::new()
        .prefix("h5sink-types-")
        .tempdir()
        .expect("creating a temp dir");
    if std::env::var_os("H5SINK_KEEP_TMP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

/// Asserts that `haystack` contains every needle (for h5dump output).
pub fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            haystack.contains(n),
            "expected {n:?} in:\n{}",
            &haystack[..haystack.len().min(20_000)]
        );
    }
}
