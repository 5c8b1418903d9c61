#!/usr/bin/env python3
"""Checks HDF5 files written by h5sink against manifests, reading them with plain h5py.

Usage:
    verify.py FILE.h5 MANIFEST.json
    verify.py --many LIST.json      # LIST.json: [["a.h5", "a.json"], ...]

A manifest (written by tests/common/mod.rs) lists every object of a file:

    {"note": "...optional description printed on failure...",
     "objects": {
       "/":      {"kind": "group", "members": ["a", "d"], "attrs": {...}},
       "/d":     {"kind": "dataset", "dtype": "<u2", "shape": [3, 4],
                  "maxshape": [null, 4] | absent (= shape), "chunks": [2, 2] | null,
                  "layout": "contiguous" | "compact" | "chunked",
                  "data": "/path/raw-little-endian-C-order.bin",
                  "fill_hex": "0000", "attrs": {...}}}}

Attributes, by name:
    {"type": "num", "dtype": "<f8", "shape": [] | [n, ...], "values": [flat list],
     "hex": "raw little-endian bytes"}
        compared with "values" (floats may be "nan", "inf", "-inf"; NaN-aware, sign
        of zero included) and, when present, bit for bit with "hex"
    {"type": "vlen_str", "shape": [] | [n], "values": [...]}
        variable-length UTF-8: h5py returns `str` (an object array of `str`)
    {"type": "fixed_str", "shape": [] | [n], "length": n, "encoding": "ascii" | "utf-8",
     "values": [...]}
        fixed-length: h5py returns `numpy.bytes_` (an `S<n>` array)

Everything is compared exactly, and the sets of group members and attribute names
must match, so missing and unlisted objects both fail. Prints "ok FILE" or
"FAIL FILE" followed by every difference; exits 1 if any file failed, 3 if h5py or
numpy cannot be imported, 2 on bad usage.
"""
import json
import sys
import traceback

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the environment
    print(f"cannot import h5py/numpy ({e}); run scripts/setup-test-env.sh", file=sys.stderr)
    sys.exit(3)

LAYOUTS = {
    "contiguous": h5py.h5d.CONTIGUOUS,
    "compact": h5py.h5d.COMPACT,
    "chunked": h5py.h5d.CHUNKED,
}
LAYOUT_NAMES = {v: k for k, v in LAYOUTS.items()}
MAX_SHOWN = 12


def float_value(v):
    if isinstance(v, str):
        return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}[v]
    return v


def diff_arrays(what, expected, actual, errs):
    """Exact comparison of two numeric arrays: dtype, shape, then bit patterns."""
    if actual.dtype != expected.dtype:
        errs.append(f"{what}: dtype {actual.dtype.str} != expected {expected.dtype.str}")
        return
    if actual.shape != expected.shape:
        errs.append(f"{what}: shape {actual.shape} != expected {expected.shape}")
        return
    if actual.tobytes() == expected.tobytes():
        return
    bits = np.dtype(f"<u{expected.dtype.itemsize}")
    a = np.ascontiguousarray(actual).reshape(-1).view(bits)
    e = np.ascontiguousarray(expected).reshape(-1).view(bits)
    af = actual.reshape(-1)
    ef = expected.reshape(-1)
    bad = np.flatnonzero(a != e)
    errs.append(f"{what}: {len(bad)} of {expected.size} elements differ")
    for k in bad[:MAX_SHOWN]:
        i = tuple(int(x) for x in np.unravel_index(k, expected.shape))
        errs.append(f"    at {i}: expected {ef[k]!r} (bits {int(e[k]):#x}), got {af[k]!r} (bits {int(a[k]):#x})")
    if len(bad) > MAX_SHOWN:
        errs.append(f"    ... and {len(bad) - MAX_SHOWN} more")


def check_numeric_attr(what, spec, aid, value, errs):
    dtype = np.dtype(spec["dtype"])
    shape = tuple(spec["shape"])
    if aid.dtype.str != dtype.str:
        errs.append(f"{what}: stored dtype {aid.dtype.str} != expected {dtype.str}")
        return
    if aid.shape != shape:
        errs.append(f"{what}: shape {aid.shape} != expected {shape}")
        return
    actual = np.asarray(value)
    if shape == () and not isinstance(value, np.generic):
        errs.append(f"{what}: h5py returned {type(value).__name__}, expected a numpy scalar")
    vals = spec["values"]
    if dtype.kind == "f":
        vals = [float_value(v) for v in vals]
    expected = np.array(vals, dtype=dtype).reshape(shape)
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        errs.append(f"{what}: read {actual.dtype.str}{actual.shape}, expected {expected.dtype.str}{expected.shape}")
        return
    if dtype.kind == "f":
        nan = np.isnan(expected)
        same = np.array_equal(actual, expected, equal_nan=True) and np.array_equal(
            np.signbit(actual)[~nan], np.signbit(expected)[~nan]
        )
    else:
        same = np.array_equal(actual, expected)
    # and exactly: the bit patterns, NaN signs and payloads included
    if "hex" in spec and np.ascontiguousarray(actual).tobytes() != bytes.fromhex(spec["hex"]):
        same = False
    if not same:
        errs.append(f"{what}: values {actual.tolist()!r} != expected {expected.tolist()!r}")


def check_string_attr(what, spec, aid, value, errs):
    shape = tuple(spec["shape"])
    info = h5py.check_string_dtype(aid.dtype)
    if info is None:
        errs.append(f"{what}: stored type {aid.dtype} is not a string type")
        return
    if aid.shape != shape:
        errs.append(f"{what}: shape {aid.shape} != expected {shape}")
        return
    if spec["type"] == "vlen_str":
        want_info = ("utf-8", None)
        want = [str(v) for v in spec["values"]]
        pytype = str
    else:
        want_info = (spec["encoding"], spec["length"])
        want = [v.encode("utf-8") for v in spec["values"]]
        pytype = np.bytes_
    if (info.encoding, info.length) != want_info:
        errs.append(f"{what}: string type (encoding, length) {(info.encoding, info.length)} != expected {want_info}")
    if shape == ():
        got = [value]
    else:
        if not isinstance(value, np.ndarray):
            errs.append(f"{what}: h5py returned {type(value).__name__}, expected an array")
            return
        if spec["type"] == "vlen_str" and value.dtype != object:
            errs.append(f"{what}: array dtype {value.dtype}, expected object (of str)")
        if spec["type"] == "fixed_str" and value.dtype.kind != "S":
            errs.append(f"{what}: array dtype {value.dtype}, expected S<n> (bytes)")
        got = list(value.reshape(-1))
    for i, (g, w) in enumerate(zip(got, want)):
        if type(g) is not pytype:
            errs.append(f"{what}[{i}]: h5py returned {type(g).__name__} {g!r}, expected {pytype.__name__} {w!r}")
        elif g != w:
            errs.append(f"{what}[{i}]: {g!r} != expected {w!r}")
    if len(got) != len(want):
        errs.append(f"{what}: {len(got)} values, expected {len(want)}")


def check_attrs(path, obj, attrs, errs):
    names = set(obj.attrs.keys())
    want = set(attrs)
    if names != want:
        if want - names:
            errs.append(f"{path}: missing attributes {sorted(want - names)}")
        if names - want:
            errs.append(f"{path}: unexpected attributes {sorted(names - want)}")
    for name, spec in attrs.items():
        if name not in names:
            continue
        what = f"{path}@{name}"
        try:
            aid = obj.attrs.get_id(name)
            value = obj.attrs[name]
        except Exception as e:
            errs.append(f"{what}: h5py cannot read it: {type(e).__name__}: {e}")
            continue
        if spec["type"] == "num":
            check_numeric_attr(what, spec, aid, value, errs)
        else:
            check_string_attr(what, spec, aid, value, errs)


def check_dataset(path, ds, spec, errs):
    dtype = np.dtype(spec["dtype"])
    shape = tuple(spec["shape"])
    if ds.dtype.str != dtype.str:
        errs.append(f"{path}: dtype {ds.dtype.str} != expected {dtype.str}")
        return
    if ds.shape != shape:
        errs.append(f"{path}: shape {ds.shape} != expected {shape}")
        return
    maxshape = tuple(spec["maxshape"]) if "maxshape" in spec else shape
    if ds.maxshape != maxshape:
        errs.append(f"{path}: maxshape {ds.maxshape} != expected {maxshape}")
    chunks = tuple(spec["chunks"]) if spec["chunks"] is not None else None
    if ds.chunks != chunks:
        errs.append(f"{path}: chunks {ds.chunks} != expected {chunks}")
    layout = ds.id.get_create_plist().get_layout()
    if layout != LAYOUTS[spec["layout"]]:
        errs.append(f"{path}: layout {LAYOUT_NAMES.get(layout, layout)} != expected {spec['layout']}")
    fill = np.asarray(ds.fillvalue, dtype=dtype).tobytes().hex()
    if fill != spec["fill_hex"]:
        errs.append(f"{path}: fill value bytes {fill} != expected {spec['fill_hex']}")
    expected = np.fromfile(spec["data"], dtype=dtype).reshape(shape)
    try:
        actual = np.asarray(ds[()])
    except Exception as e:
        errs.append(f"{path}: h5py cannot read the data: {type(e).__name__}: {e}")
        return
    diff_arrays(f"{path} data", expected, actual, errs)


def verify(h5_path, manifest_path):
    errs = []
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    try:
        f = h5py.File(h5_path, "r")
    except Exception as e:
        return [f"h5py cannot open the file: {type(e).__name__}: {e}"], manifest
    with f:
        for path, spec in manifest["objects"].items():
            try:
                obj = f[path]
            except Exception as e:
                errs.append(f"{path}: cannot open ({spec['kind']}): {type(e).__name__}: {e}")
                continue
            try:
                if spec["kind"] == "group":
                    if not isinstance(obj, h5py.Group):
                        errs.append(f"{path}: expected a group, found {type(obj).__name__}")
                        continue
                    members = set(obj.keys())
                    want = set(spec["members"])
                    if want - members:
                        errs.append(f"{path}: missing members {sorted(want - members)}")
                    if members - want:
                        errs.append(f"{path}: unexpected members {sorted(members - want)}")
                else:
                    if not isinstance(obj, h5py.Dataset):
                        errs.append(f"{path}: expected a dataset, found {type(obj).__name__}")
                        continue
                    check_dataset(path, obj, spec, errs)
                check_attrs(path, obj, spec["attrs"], errs)
            except Exception:
                errs.append(f"{path}: verifier crashed:\n{traceback.format_exc()}")
    return errs, manifest


def main(argv):
    if len(argv) == 3 and argv[1] == "--many":
        with open(argv[2], encoding="utf-8") as f:
            pairs = json.load(f)
    elif len(argv) == 3:
        pairs = [[argv[1], argv[2]]]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for h5_path, manifest_path in pairs:
        errs, manifest = verify(h5_path, manifest_path)
        if errs:
            failed += 1
            print(f"FAIL {h5_path}")
            if manifest.get("note"):
                print(f"  case: {manifest['note']}")
            for e in errs:
                print(f"  {e}")
        else:
            print(f"ok {h5_path}")
    print(f"{len(pairs) - failed} of {len(pairs)} files verified, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
