#!/usr/bin/env python3
"""Write a synthetic, Kubernetes-shaped Go coverage profile (count mode).

    gen-splitmix-profile.py NFILES NBLOCKS SEED OUT

Same command line, format and sizes as benches/gen-synthetic-profile.py
(20000 50 SEED gives 1,000,000 blocks, about 68 MB):

    mode: count
    k8s.io/kubernetes/pkg/subNNN/pkgNNNN/fileNNNNN.go:L.C,L.C N C

The block layout is the same for every SEED, so profiles merge and diff
cleanly; only the counts vary (60 % zero, the rest uniform in 1..=100000).
Random numbers come from SplitMix64, so the output is byte-identical to
covlens_benches::write_synthetic (benches/src/lib.rs), the generator the
criterion benchmarks use; it is not byte-identical to gen-synthetic-profile.py's.
"""

import sys

MASK = (1 << 64) - 1
LAYOUT_SEED = 0x6C61796F7574  # "layout"


class SplitMix64:
    __slots__ = ("state",)

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def range(self, lo, hi):
        return lo + self.next() % (hi - lo + 1)


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    nfiles, nblocks, seed = int(argv[1]), int(argv[2]), int(argv[3])
    lay = SplitMix64(LAYOUT_SEED)
    rng = SplitMix64(seed)
    with open(argv[4], "w", buffering=1 << 20) as f:
        f.write("mode: count\n")
        for i in range(nfiles):
            name = "k8s.io/kubernetes/pkg/sub%03d/pkg%04d/file%05d.go" % (i % 300, i % 3000, i)
            line = 10
            out = []
            for _ in range(nblocks):
                end_line = line + lay.range(0, 6)
                start_col = lay.range(2, 60)
                end_col = lay.range(2, 60)
                num_stmt = lay.range(1, 8)
                count = 0 if rng.range(0, 9) < 6 else rng.range(1, 100000)
                out.append("%s:%d.%d,%d.%d %d %d\n" % (name, line, start_col, end_line, end_col, num_stmt, count))
                line = end_line + 1
            f.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
