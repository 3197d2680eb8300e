import sys, json, torch
torch.set_num_threads(1)
from lab import *; from proto import make
out = open(sys.argv[1], 'a'); iters = int(sys.argv[2])
jobs = [x.split('@') for x in sys.argv[3:]]
for name, lr in jobs:
    r = run_gpt(make(moment=name), float(lr), iters=iters, eval_every=iters // 4, eval_iters=50)
    rec = dict(moment=name, lr=float(lr), iters=iters, best=r['best'], final=r['final'])
    print(json.dumps(rec), file=out, flush=True); print(rec, flush=True)
