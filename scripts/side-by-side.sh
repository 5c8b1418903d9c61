#!/usr/bin/env bash
# Side-by-side benchmark: the anchor workloads through libhdf5 (C, Debian 1.10.8), a plain
# write() of the same bytes, and h5sink, interleaved in one run (the harness of
# ../shared/anchors), then the ratios h5sink / libhdf5 and h5sink / write().
#
#   scripts/side-by-side.sh                 # W1..W5, REPS=3 (about 6 minutes)
#   ONLY=W1,phys REPS_CHEAP=5 scripts/side-by-side.sh
#
# Needs ../shared/anchors (beside the repository), libhdf5-dev and gcc (installed if missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"
[ -f "$ANCHORS/harness.py" ] || { echo "no anchors at $ANCHORS" >&2; exit 1; }
if ! pkg-config --exists hdf5 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
fi
WORK="$(mktemp -d /tmp/h5sink-sbs.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cp "$ANCHORS"/*.py "$ANCHORS"/*.c "$WORK"/
export BUILD="$WORK/build" OUTDIR="$WORK/out"
mkdir -p "$BUILD" "$OUTDIR"
gcc -O2 -Wall -Wno-format-truncation -o "$BUILD/bench_c" "$WORK/bench_c.c" $(pkg-config --cflags --libs hdf5)
gcc -O2 -Wall -o "$BUILD/physical" "$WORK/physical.c"
(cd "$ROOT" && cargo build --release --quiet --example anchor_bench)
export HDF5_SYS_VER="$(pkg-config --modversion hdf5)"
export EXTRA_IMPL="h5sink=$ROOT/target/release/examples/anchor_bench;h5sink-2t=env H5SINK_THREADS=2 $ROOT/target/release/examples/anchor_bench"
export IMPLS="${IMPLS:-c-hdf5-$HDF5_SYS_VER,h5sink,h5sink-2t}"
export ONLY="${ONLY:-phys,W1,W2,W3,W4,W5}"
export REPS="${REPS:-3}" REPS_CHEAP="${REPS_CHEAP:-3}"
python3 "$WORK/harness.py" | tee "$WORK/summary.md"
python3 - "$WORK"/results/bench-raw-*.jsonl <<'PY'
import json, statistics, sys
recs = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
by = {}
for r in recs:
    if "error" in r:
        continue
    key = ("phys", r["workload"]) if r.get("impl") == "c-physical" else (r["wl"], r["impl_name"])
    by.setdefault(key, []).append(r)
def med(key, metric):
    rs = by.get(key)
    if not rs:
        return None
    vals = [r["bytes"] / 1e6 / r["t_total"] if metric == "MB/s" else r["n"] / r["t_total"] for r in rs]
    return statistics.median(vals)
c = next((k[1] for k in by if k[1].startswith("c-hdf5")), None)
print("\n### Ratios (medians of the same interleaved run)")
print("| workload | h5sink | libhdf5 C | write() | h5sink / libhdf5 | h5sink / write() | h5sink peak RSS MiB | h5sink file MB | libhdf5 file MB |")
print("(W4's file sizes give the compression ratios: 536.9 MB of input)")
print("|---|---|---|---|---|---|---|---|---|")
rows = [("W1", "MB/s", "h5sink"), ("W2", "MB/s", "h5sink"), ("W3", "items/s", "h5sink"),
        ("W4", "MB/s", "h5sink"), ("W4", "MB/s", "h5sink-2t"), ("W5", "items/s", "h5sink")]
for wl, metric, impl in rows:
    ours, theirs = med((wl, impl), metric), med((wl, c), metric)
    phys = med(("phys", "write"), "MB/s") if metric == "MB/s" else None
    if ours is None:
        continue
    rss = statistics.median(r["peak_rss_kb"] / 1024 for r in by[(wl, impl)])
    fs = statistics.median(r["file_size"] / 1e6 for r in by[(wl, impl)])
    cfs = statistics.median(r["file_size"] / 1e6 for r in by[(wl, c)]) if (wl, c) in by else float("nan")
    unit = {"MB/s": "MB/s", "items/s": "/s"}[metric]
    f = lambda v: "-" if v is None else (f"{v:,.0f} {unit}")
    label = wl + (" (2 threads)" if impl.endswith("2t") else "")
    print(f"| {label} | {f(ours)} | {f(theirs)} | {f(phys) if phys else '-'} | "
          f"{ours / theirs:.2f}x | {(ours / phys) if phys else float('nan'):.2f} | {rss:.1f} | {fs:.2f} | {cfs:.2f} |"
          .replace("| nan |", "| - |"))
PY
