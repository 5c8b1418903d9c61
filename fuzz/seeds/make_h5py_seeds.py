"""Writes the h5py seed files of fuzz/seeds/ (run with the test venv's Python from
fuzz/seeds/: ../../.venv/bin/python make_h5py_seeds.py). Small on purpose."""
import h5py
import numpy as np

# libver v108 (libhdf5 2.0 via h5py 3.16): superblock v2, object header v2, compact
# links, layout v3 with v1 B-tree chunk indexes: all of it readable
with h5py.File("h5py-v108.hdf5", "w", libver=("v108", "v108")) as f:
    f.attrs["title"] = "h5py seed"
    f.attrs["n"] = np.int64(5)
    g = f.create_group("grp")
    g.attrs["arr"] = np.arange(3, dtype="<f4")
    g.create_dataset("contig", data=np.arange(6, dtype="<u2").reshape(2, 3))
    f.create_dataset("s", data=b"fixed")

with h5py.File("h5py-v108-chunked.hdf5", "w", libver=("v108", "v108")) as f:
    f.create_dataset("c", data=np.arange(40, dtype="<u2"), chunks=(8,),
                     maxshape=(None,), compression="gzip", fletcher32=True)

# libver latest: layout message version 5 (filtered) with an extensible array index
with h5py.File("h5py-latest-chunked.hdf5", "w", libver="latest") as f:
    f.attrs["x"] = 1.5
    f.create_dataset("c", data=np.arange(40, dtype="<u2"), chunks=(8,),
                     maxshape=(None,), compression="gzip")

# libver latest, every layout v4/v5 chunk index, small: single chunk (filtered),
# fixed array (small, and paged: 1100 elements, the middle page never written),
# extensible array reaching a secondary block, v2 B-tree of depth 1, implicit
with h5py.File("h5py-latest-indexes.hdf5", "w", libver="latest") as f:
    f.create_dataset("single", data=np.arange(12, dtype="<i2").reshape(3, 4), chunks=(3, 4),
                     compression="gzip")
    f.create_dataset("fa", data=np.arange(30, dtype="<i2").reshape(5, 6), chunks=(2, 4))
    d = f.create_dataset("fa_paged", shape=(2100,), chunks=(1,), dtype="u1", fillvalue=5)
    d[:3] = 1
    d[2090:] = 2
    d = f.create_dataset("ea", shape=(250,), maxshape=(None,), chunks=(1,), dtype="u1",
                         compression="gzip")
    d[:5] = 3
    d[240:] = 4
    d = f.create_dataset("bt", shape=(10, 10), maxshape=(None, None), chunks=(1, 1),
                         dtype="u1")
    d[...] = np.arange(100).reshape(10, 10)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((2, 2))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    h5py.h5d.create(f.id, b"implicit", h5py.h5t.STD_I16LE, h5py.h5s.create_simple((3, 4)),
                    dcpl=dcpl)

# default libver: superblock v0, object header v1, symbol-table groups
with h5py.File("h5py-default.hdf5", "w") as f:
    f.attrs["a"] = 1
    f.create_dataset("d", data=np.arange(4, dtype="<u1"))

# libver latest, dense storage: a group of 9 links (one a dataset) and 9 attributes
# on the root (fractal heaps with one direct block each, v2 B-tree name indexes of
# record types 5 and 8)
with h5py.File("h5py-latest-dense.hdf5", "w", libver="latest") as f:
    for k in range(8):
        f.create_group(f"g{k}")
    f.create_dataset("d", data=np.arange(3, dtype="<u1"))
    for k in range(9):
        f.attrs[f"a{k}"] = np.int16(k) if k % 2 else f"s{k}"

for name in ["h5py-v108.hdf5", "h5py-v108-chunked.hdf5", "h5py-latest-chunked.hdf5",
             "h5py-latest-indexes.hdf5", "h5py-default.hdf5", "h5py-latest-dense.hdf5"]:
    data = open(name, "rb").read()
    open("fix-" + name, "wb").write(b"\xa5" + data)
    print(name, len(data), "bytes")
