"""Writes h5py files whose chunked datasets use every layout-v4/v5 chunk index, and
prints what h5py reads back (run by tests/read_chunk_indexes.rs with the test venv,
h5py 3.16 / libhdf5 2.0 as pinned in requirements.txt).

usage: python chunk_indexes.py OUT_DIR

Files:
  latest.h5  libver="latest": layout v4 for unfiltered datasets, v5 for filtered
             ones (filtered chunk sizes in 8 bytes)
  v110.h5    libver=("v110", "v114"): layout v4 throughout (filtered chunk sizes in
             as few bytes as the chunk size needs)
  small.h5   libver="latest", one small dataset per index (for byte mutations and
             fuzz seeds)

Output: two lines per dataset:
  D <file> <path> <dims> <maxdims> <itemsize> <chunks> <filters> <data as hex>
  C <file> <path> <chunks in the index> <offset:filter mask:address:size;...>
the chunks as libhdf5's H5Dchunk_iter lists them, sorted by offset.
"""
import sys

import h5py
import numpy as np

out = sys.argv[1]


def early(f, name, shape, chunks, dtype, maxshape=None, fill=None):
    """A dataset with early allocation: libhdf5 picks the implicit index."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(chunks)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    if fill is not None:
        dcpl.set_fill_value(np.array(fill, dtype=dtype))
    space = h5py.h5s.create_simple(shape, maxshape or shape)
    tid = h5py.h5t.py_create(np.dtype(dtype))
    lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)
    h5py.h5d.create(f.id, name.encode(), tid, space, dcpl=dcpl, lcpl=lcpl)
    return f[name]


def datasets(f, gz):
    """The same datasets unfiltered (gz=False, under /raw) or with gzip + shuffle
    (gz=True, under /gz), one group per index kind (no group has more than 8 links:
    their links stay compact; tests/read_dense.rs covers dense storage)."""
    kw = dict(compression="gzip", shuffle=True) if gz else {}
    p = "gz/" if gz else "raw/"
    rng = np.random.default_rng(5)

    # single chunk: chunk == dataset shape; one never written (no chunk at all)
    f.create_dataset(p + "single/written", data=np.arange(600, dtype="<f4").reshape(20, 30),
                     chunks=(20, 30), **kw)
    f.create_dataset(p + "single/unwritten", shape=(5, 5), chunks=(5, 5), dtype="<i2",
                     fillvalue=-3, **kw)

    # fixed array, small: partial edge chunks, maximum dims above the dims, a
    # region never written (fill)
    d = f.create_dataset(p + "fa/small", shape=(10, 11), maxshape=(16, 20), chunks=(3, 4),
                         dtype="<i4", fillvalue=-1, **kw)
    d[:7, :] = np.arange(77, dtype="<i4").reshape(7, 11)
    # fixed array, paged data block (34 x 41 = 1394 chunk positions > 1024 per page):
    # pages 0 and 1 written in part, a stretch of page 0 never written
    d = f.create_dataset(p + "fa/paged", shape=(100, 41), chunks=(3, 1), dtype="<i2",
                         fillvalue=9, **kw)
    d[:30, :] = rng.integers(-1000, 1000, size=(30, 41), dtype="<i2")
    d[90:, 5:] = rng.integers(-1000, 1000, size=(10, 36), dtype="<i2")
    # fixed array, 3 pages, the middle one never initialised
    d = f.create_dataset(p + "fa/pages_gap", shape=(50, 50), chunks=(1, 1), dtype="u1",
                         fillvalue=200, **kw)
    d[:10, :] = rng.integers(0, 255, size=(10, 50), dtype="u1")
    d[45:, :] = rng.integers(0, 255, size=(5, 50), dtype="u1")

    # extensible array along dim 0: elements in the index block, in data blocks of
    # the index block, in secondary blocks, and (past element 131060) in paged data
    # blocks with pages never initialised; fill in between
    d = f.create_dataset(p + "ea/big", shape=(140000,), maxshape=(None,), chunks=(1,),
                         dtype="u1", fillvalue=7, **kw)
    d[:1000] = np.arange(1000) % 251
    d[5000:5100] = 3
    d[133000:134000] = np.arange(1000) % 13
    d[139990:] = 1
    # extensible array along dim 1 (the unlimited dim is not the first), partial
    # edge chunks
    d = f.create_dataset(p + "ea/dim1", shape=(6, 50), maxshape=(6, None), chunks=(4, 3),
                         dtype="<f8", **kw)
    d[...] = np.arange(300, dtype="<f8").reshape(6, 50) / 7
    d.resize((6, 57))
    d[:, 53:] = -1.5
    # extended after writing: chunks beyond the first dims
    d = f.create_dataset(p + "ea/grown", shape=(3, 4), maxshape=(None, 4), chunks=(2, 4),
                         dtype="<i8", fillvalue=-9, **kw)
    d[...] = np.arange(12).reshape(3, 4)
    d.resize((11, 4))
    d[9] = [5, 6, 7, 8]

    # v2 B-tree: two unlimited dims; 196 chunks (depth 1) and 6400 (depth 2)
    d = f.create_dataset(p + "bt/small", shape=(40, 40), maxshape=(None, None),
                         chunks=(3, 3), dtype="<i2", fillvalue=4, **kw)
    d[:, :] = rng.integers(-30000, 30000, size=(40, 40), dtype="<i2")
    d.resize((45, 43))
    d = f.create_dataset(p + "bt/big", shape=(80, 80), maxshape=(None, None), chunks=(1, 1),
                         dtype="<u2", **kw)
    d[...] = np.arange(6400, dtype="<u2").reshape(80, 80)
    d[10:20, 10:20] = 0
    d = f.create_dataset(p + "bt/3d", shape=(5, 6, 7), maxshape=(None, 6, None),
                         chunks=(2, 6, 3), dtype="<f4", fillvalue=0.5, **kw)
    d[:3] = np.arange(126, dtype="<f4").reshape(3, 6, 7)

    if not gz:
        # implicit: early allocation, no filters; fill written at allocation
        d = early(f, p + "implicit/plain", (10, 12), (4, 5), "<i4", fill=-7)
        d[2:9, 1:11] = np.arange(70, dtype="<i4").reshape(7, 10)
        d = early(f, p + "implicit/max", (10, 12), (4, 5), "<u2", maxshape=(21, 12))
        d[...] = np.arange(120, dtype="<u2").reshape(10, 12)
    else:
        # Fletcher-32 as well, on a fixed array and a v2 B-tree
        f.create_dataset("gz/fa/f32", data=np.arange(500, dtype="<f8").reshape(20, 25),
                         chunks=(6, 7), compression="gzip", fletcher32=True)
        f.create_dataset("gz/bt/f32", data=np.arange(500, dtype="<i4").reshape(20, 25),
                         maxshape=(None, None), chunks=(6, 7), compression="gzip",
                         fletcher32=True)


def dims(s):
    return ",".join(str(-1 if x is None else x) for x in s) if s else "-"


for name, libver in [("latest.h5", "latest"), ("v110.h5", ("v110", "v114"))]:
    with h5py.File(f"{out}/{name}", "w", libver=libver) as f:
        datasets(f, False)
        datasets(f, True)

with h5py.File(f"{out}/small.h5", "w", libver="latest") as f:
    f.create_dataset("single", data=np.arange(12, dtype="<i2").reshape(3, 4), chunks=(3, 4),
                     compression="gzip")
    f.create_dataset("fa", data=np.arange(30, dtype="<i2").reshape(5, 6), chunks=(2, 4))
    d = f.create_dataset("fa_paged", shape=(1100,), chunks=(1,), dtype="u1", fillvalue=5)
    d[:20] = 1
    d[1090:] = 2
    d = f.create_dataset("ea", shape=(300,), maxshape=(None,), chunks=(1,), dtype="u1",
                         compression="gzip", shuffle=True)
    d[...] = np.arange(300) % 256
    d = f.create_dataset("bt", shape=(12, 12), maxshape=(None, None), chunks=(1, 1),
                         dtype="u1")
    d[...] = np.arange(144).reshape(12, 12)
    d = early(f, "implicit", (4, 6), (2, 4), "<i2")
    d[1:3, 1:5] = 8

for name in ["latest.h5", "v110.h5", "small.h5"]:
    with h5py.File(f"{out}/{name}", "r") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for key in sorted(names):
            o = f[key]
            p = o.id.get_create_plist()
            filters = ",".join(str(p.get_filter(i)[0]) for i in range(p.get_nfilters())) or "-"
            print("D", name, "/" + key, dims(o.shape), dims(o.maxshape), o.dtype.itemsize,
                  dims(o.chunks), filters, o[()].tobytes().hex())
            if sum(m is None for m in o.maxshape) == 1 and o.maxshape[0] is not None:
                # an extensible array along a dim other than the first: libhdf5 2.0's
                # chunk queries (H5Dchunk_iter walks the grid unswizzled and reports
                # every chunk along the unlimited dim; H5Dget_chunk_info_by_coord
                # misses half of them) disagree with its own reads, so no list
                print("C", name, "/" + key, "skip")
                continue
            chunks = []
            o.id.chunk_iter(lambda c: chunks.append(
                (tuple(c.chunk_offset), c.filter_mask, c.byte_offset, c.size)))
            chunks.sort()
            print("C", name, "/" + key, len(chunks), ";".join(
                f"{','.join(map(str, off))}:{m}:{a}:{n}" for off, m, a, n in chunks) or "-")
