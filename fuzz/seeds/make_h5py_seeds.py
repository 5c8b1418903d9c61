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

# libver latest: layout message version 5 for chunked datasets (unsupported)
with h5py.File("h5py-latest-chunked.hdf5", "w", libver="latest") as f:
    f.attrs["x"] = 1.5
    f.create_dataset("c", data=np.arange(40, dtype="<u2"), chunks=(8,),
                     maxshape=(None,), compression="gzip")

# default libver: superblock v0, object header v1, symbol-table groups
with h5py.File("h5py-default.hdf5", "w") as f:
    f.attrs["a"] = 1
    f.create_dataset("d", data=np.arange(4, dtype="<u1"))

for name in ["h5py-v108.hdf5", "h5py-v108-chunked.hdf5", "h5py-latest-chunked.hdf5",
             "h5py-default.hdf5"]:
    data = open(name, "rb").read()
    open("fix-" + name, "wb").write(b"\xa5" + data)
    print(name, len(data), "bytes")
