import sys, json, torch, itertools
torch.set_num_threads(1)
from lab import *
out = open(sys.argv[1], 'a')
archs = sys.argv[2].split(',')
V = {
 'adamw': adamw,
 'fb': fb(),
 'fb-ada': fb(beta_schedule='adalite'),
 'fb-nocent': fb(centralize=False),
 'fb-ada-nocent': fb(beta_schedule='adalite', centralize=False),
 'fb-ada-nocent-nomask': fb(beta_schedule='adalite', centralize=False, sparse_update=False),
 'fb-ada-nocent-nocover': fb(beta_schedule='adalite', centralize=False, cover=False),
}
names = sys.argv[3].split(',') if len(sys.argv) > 3 else list(V)
lrs = [1e-3, 3.16e-3, 1e-2, 3.16e-2, 1e-1, 3.16e-1]
for arch in archs:
    for n in names:
        for lr in lrs:
            r = run_m1d(V[n], lr, seed=0, arch=arch)
            rec = dict(arch=arch, opt=n, lr=lr, **{k: r[k] for k in ('val', 'test', 'diverged')})
            print(json.dumps(rec), file=out, flush=True); print(rec, flush=True)
