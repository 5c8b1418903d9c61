#!/usr/bin/env python3
"""Checks files left by killed writers. Usage: verify_crash.py CASES.json

Each case: {"path", "committed": N, "written": W, "datasets": [{"name", "dtype", "frame": [...],
"pattern": "frame"|"time"}], "attrs": {name: value} (optional)}.
The file must open with plain h5py.File(path) (no swmr, no h5clear); every dataset must hold
between N and W frames, each equal to its pattern. A missing file is accepted only when N == 0.
Prints one line per failure; exits 1 if any case failed."""
import json, os, sys
import numpy as np
import h5py
try:
    import hdf5plugin  # noqa: F401  (LZ4 and other plugin filters)
except ImportError:
    pass


def expected(pattern, dtype, frame, n):
    size = int(np.prod(frame)) if frame else 1
    i = np.arange(n, dtype=np.int64).reshape(-1, 1)
    j = np.arange(size, dtype=np.int64).reshape(1, -1)
    if pattern == "frame":
        v = (i * 1009 + j * 7) % 65521
    elif pattern == "time":
        v = i * 0.5 + j
    else:
        raise ValueError(pattern)
    return v.astype(dtype).reshape((n,) + tuple(frame))


def check(case):
    path, committed, written = case["path"], case["committed"], case["written"]
    if not os.path.exists(path):
        return None if committed == 0 else f"{path}: missing, but {committed} frames were committed"
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001
        return f"{path}: plain h5py.File() failed: {e!r}"
    with f:
        for name, value in case.get("attrs", {}).items():
            if name not in f.attrs:
                if committed > 0:
                    return f"{path}: attribute {name} missing"
                continue
            got = f.attrs[name]
            if isinstance(got, bytes):
                got = got.decode()
            if isinstance(got, np.generic):
                got = got.item()
            if got != value:
                return f"{path}: attribute {name} = {got!r}, expected {value!r}"
        for ds in case["datasets"]:
            name = ds["name"]
            if name not in f:
                if committed > 0:
                    return f"{path}: dataset {name} missing with {committed} committed"
                continue
            d = f[name]
            n = d.shape[0]
            if n < committed:
                return f"{path}:{name}: {n} frames < {committed} committed"
            if n > written:
                return f"{path}:{name}: {n} frames > {written} written"
            want = expected(ds["pattern"], np.dtype(ds["dtype"]), ds["frame"], n)
            try:
                got = d[...]
            except Exception as e:  # noqa: BLE001
                return f"{path}:{name}: reading {n} frames failed: {e!r}"
            if got.shape != want.shape or not np.array_equal(got, want):
                bad = [k for k in range(n) if not np.array_equal(got[k], want[k])]
                return f"{path}:{name}: {len(bad)} wrong frames of {n}, first {bad[:5]}"
    return None


def main():
    cases = json.load(open(sys.argv[1]))
    failures = [m for m in (check(c) for c in cases) if m]
    for m in failures:
        print("FAIL", m)
    print(f"verify_crash: {len(cases) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
