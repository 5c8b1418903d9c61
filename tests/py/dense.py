"""Writes h5py files whose groups and attributes use dense storage (fractal heaps and
v2 B-tree name indexes), and prints what h5py reads back (run by tests/read_dense.rs
with the test venv, h5py 3.16 / libhdf5 2.0 as pinned in requirements.txt).

usage: python dense.py OUT_DIR

Files (libver="latest" unless said otherwise):
  links9.h5      a group of 9 links (the first count libhdf5 stores densely)
  links100.h5    a group of 100 links: groups, datasets, soft and external links
  links2000.h5   a group of 2,000 links: root indirect block, B-tree of depth 2
  longnames.h5   2,000 links with 300-byte names (nested indirect blocks), names of
                 1 to 4 bytes, UTF-8 names, and one 5,000-byte name (a huge object)
  attrs9.h5      root, group and dataset with 9 attributes of mixed types
  attrs200.h5    the same with 200 attributes, and attributes of 8,000 and 80,000
                 bytes (huge objects: over the heap's 4,096-byte managed limit)
  tracked.h5     default libver, track_order=True: links and attributes created in
                 an order unlike their names (creation-order indexes, types 6 and 9)
  small.h5       a small dense file (9 links, 9 attributes) for mutations and fuzzing

Output, one line per item (names and strings as hex of their UTF-8 bytes, "-" for
empty):
  O <file> <path> <G|D> <header address>            every object, by visititems
  L <file> <group> <i> <name> hard <address>         link i in h5py's iteration order
  L <file> <group> <i> <name> soft <target>
  L <file> <group> <i> <name> external <file>:<path>
  A <file> <object> <name> raw <hex>                 attribute value as stored
  A <file> <object> <name> str <s1>,<s2>,...         variable-length strings
  N <file> <object> <names in h5py's order, comma-separated>
  D <file> <path> <data as hex>                      dataset values
"""
import sys

import h5py
import numpy as np

out = sys.argv[1]


def h(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    return b.hex() if b else "-"


def links9(f):
    g = f.create_group("g")
    for k in range(8):
        g.create_group(f"sub{k}")
    g.create_dataset("data", data=np.arange(6, dtype="<i4").reshape(2, 3))


def links100(f):
    g = f.create_group("g")
    rng = np.random.default_rng(1)
    for k in range(100):
        name = f"n{(k * 37) % 100:03d}"
        if k % 10 == 0:
            g.create_dataset(name, data=rng.integers(-1000, 1000, size=k + 1, dtype="<i8"))
        elif k % 10 == 1:
            g[name] = h5py.SoftLink(f"/g/n{(k * 37 + 1) % 100:03d}")
        elif k % 10 == 2:
            g[name] = h5py.ExternalLink("other.h5", f"/x{k}")
        else:
            g.create_group(name)


def links2000(f):
    g = f.create_group("many")
    for k in range(2000):
        if k % 100 == 0:
            g.create_dataset(f"d{k:04d}", data=np.full(3, k, dtype="<f8"))
        else:
            g.create_group(f"x{k:04d}")


def longnames(f):
    g = f.create_group("long")
    for k in range(2000):
        g.create_group(f"{k:05d}" + "L" * 295)
    s = f.create_group("short")
    for name in ["a", "b", "zz", "é", "ü1", "日本", "x y", "abcd", "A"]:
        s.create_group(name)
    s.create_dataset("H" * 5000, data=np.arange(4, dtype="<u2"))


def mixed_attrs(obj, n, big=False):
    rng = np.random.default_rng(n)
    for k in range(n):
        name = f"attr{(k * 7) % n:04d}"
        kind = k % 8
        if kind == 0:
            obj.attrs[name] = np.int64(k * 1000 - 3)
        elif kind == 1:
            obj.attrs[name] = np.float64(k) / 7
        elif kind == 2:
            obj.attrs[name] = f"value {k} é"
        elif kind == 3:
            obj.attrs[name] = np.bytes_(f"fixed{k}")
        elif kind == 4:
            obj.attrs[name] = rng.integers(-50, 50, size=(2, 3)).astype("<i2")
        elif kind == 5:
            obj.attrs[name] = rng.random(k % 13 + 1).astype("<f4")
        elif kind == 6:
            obj.attrs[name] = [f"s{k}", "", "three"]
        else:
            obj.attrs[name] = np.uint8(k % 256)
    if big:
        obj.attrs["big8k"] = np.arange(1000, dtype="<f8")
        obj.attrs["big80k"] = np.arange(20000, dtype="<i4")


def attrs(f, n):
    mixed_attrs(f, n, big=n > 9)
    g = f.create_group("grp")
    mixed_attrs(g, n)
    d = f.create_dataset("dset", data=np.arange(10, dtype="<i2"))
    mixed_attrs(d, n, big=n > 9)


def tracked(f):
    g = f.create_group("ordered", track_order=True)
    names = [f"t{(k * 11) % 20:02d}" for k in range(20)]
    for i, name in enumerate(names):
        if i % 5 == 0:
            g.create_dataset(name, data=np.arange(i, dtype="<i4"))
        else:
            g.create_group(name)
    for i, name in enumerate(reversed(names)):
        g.attrs[name] = np.int32(i)
    d = g.create_dataset("zz_with_attrs", data=[1.5, 2.5], track_order=True)
    for i in range(12):
        d.attrs[f"a{(i * 5) % 12:02d}"] = np.float32(i)


def small(f):
    for k in range(9):
        f.create_group(f"g{k}")
    for k in range(9):
        f.attrs[f"a{k}"] = np.int16(k)


FILES = [
    ("links9.h5", links9, {"libver": "latest"}),
    ("links100.h5", links100, {"libver": "latest"}),
    ("links2000.h5", links2000, {"libver": "latest"}),
    ("longnames.h5", longnames, {"libver": "latest"}),
    ("attrs9.h5", lambda f: attrs(f, 9), {"libver": "latest"}),
    ("attrs200.h5", lambda f: attrs(f, 200), {"libver": "latest"}),
    ("tracked.h5", tracked, {"track_order": True}),
    ("small.h5", small, {"libver": "latest"}),
]


def report(name):
    f = h5py.File(f"{out}/{name}", "r")
    objs = [("/", f)]
    f.visititems(lambda p, o: objs.append(("/" + p, o)))
    for path, o in objs:
        kind = "G" if isinstance(o, h5py.Group) else "D"
        print("O", name, h(path), kind, h5py.h5o.get_info(o.id).addr)
        if kind == "G":
            for i, ln in enumerate(o):
                link = o.get(ln, getlink=True)
                if isinstance(link, h5py.SoftLink):
                    t = "soft " + h(link.path)
                elif isinstance(link, h5py.ExternalLink):
                    t = "external " + h(link.filename) + ":" + h(link.path)
                else:
                    t = "hard " + str(o.id.links.get_info(ln.encode()).u)
                print("L", name, h(path), i, h(ln), t)
        else:
            print("D", name, h(path), h(o[()].tobytes()))
        print("N", name, h(path), ",".join(h(a) for a in o.attrs) or "-")
        for a in o.attrs:
            v = o.attrs[a]
            dt = o.attrs.get_id(a).dtype
            if h5py.check_string_dtype(dt) and h5py.check_string_dtype(dt).length is None:
                vals = [v] if isinstance(v, str) else list(v)
                print("A", name, h(path), h(a), "str", ",".join(h(s) for s in vals) or "-")
            else:
                print("A", name, h(path), h(a), "raw", h(np.asarray(v, dtype=dt).tobytes()))


for name, make, kw in FILES:
    with h5py.File(f"{out}/{name}", "w", **kw) as f:
        make(f)
    report(name)
