#!/usr/bin/env python3
# A synthetic, Kubernetes-shaped Go coverage profile for benches/compare.sh:
#   gen-synthetic-profile.py NFILES NBLOCKS SEED OUT   (20000 50 SEED: 1M blocks, ~68 MB)
# The generator behind the numbers in docs/performance.md, as provided with
# the project's benchmark tooling (code unchanged), so that they can be
# reproduced from this repository. gen-splitmix-profile.py writes the same
# shape with the numbers the criterion benchmarks use.
import random, sys
# synthetic Go cover profile: nfiles x nblocks, count mode; block layout fixed (seed 0), counts vary by seed
nfiles=int(sys.argv[1]); nblocks=int(sys.argv[2]); seed=int(sys.argv[3]); out=sys.argv[4]
lay=random.Random(0); r=random.Random(seed)
with open(out,'w') as f:
    f.write('mode: count\n')
    for i in range(nfiles):
        fn='k8s.io/kubernetes/pkg/sub%03d/pkg%04d/file%05d.go'%(i%300,i%3000,i)
        line=10
        for b in range(nblocks):
            l2=line+lay.randint(0,6)
            c = 0 if r.random()<0.6 else r.randint(1,100000)
            f.write('%s:%d.%d,%d.%d %d %d\n'%(fn,line,lay.randint(2,60),l2,lay.randint(2,60),lay.randint(1,8),c))
            line=l2+1
