"Diagnose the cover: train with Fusedbun-like cover updates while shadowing the full second moment v on the same gradients."
import math, torch, json, sys
torch.set_num_threads(1)
from lab import *
import lab

class Shadow(torch.optim.Optimizer):
    def __init__(self, params, lr, beta_decay=0.8, eps=1e-8, mb=0.9, use_full=False):
        super().__init__(params, dict(lr=lr, Lambda=0.0)); self.bd, self.eps, self.mb, self.use_full = beta_decay, eps, mb, use_full
    @torch.no_grad()
    def step(self):
        for gr in self.param_groups:
            for p in gr['params']:
                g = p.grad; st = self.state[p]
                if not st:
                    st.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                    if p.dim() == 2: st.update(R=torch.zeros(p.shape[0], 1), C=torch.zeros(1, p.shape[1]))
                st['step'] += 1; b = 1 - st['step'] ** (-self.bd)
                m = st['m'].mul_(self.mb).add_(g, alpha=1 - self.mb)
                st['v'].mul_(b).addcmul_(g, g, value=1 - b)
                if p.dim() == 2:
                    prev = torch.minimum(st['R'], st['C']); nu = prev * b + (1 - b) * g * g
                    st['R'].copy_(nu.amax(1, keepdim=True)); st['C'].copy_(nu.amax(0, keepdim=True))
                    den = st['v'] if self.use_full else nu
                else: den = st['v']
                if gr.get('Lambda'): p.mul_(1 - gr['lr'] * gr['Lambda'])
                p.addcdiv_(m, den.sqrt() + self.eps, value=-gr['lr'])

def mk(use_full):
    def m(groups, lr, c): return Shadow([dict(params=g['params'], Lambda=g['weight_decay']) for g in groups], lr, use_full=use_full)
    return m

names = {}
out = {}
for use_full in (True, False):
    holder = {}
    orig = lab.GPT
    r = run_gpt(lambda groups, lr, c: holder.setdefault('opt', mk(use_full)(groups, lr, c)), 4e-3 if use_full else 8e-3, iters=int(sys.argv[1]), eval_every=int(sys.argv[1]), eval_iters=20)
    opt = holder['opt']
    rows = []
    for i, p in enumerate(opt.param_groups[0]['params']):
        st = opt.state[p]
        if p.dim() != 2: continue
        v = st['v']; cov = torch.minimum(st['R'], st['C'])
        stat = torch.minimum(v.amax(1, keepdim=True), v.amax(0, keepdim=True))  # cover of the true v (structure only)
        lr_ = lambda a: (a / v.clamp_min(1e-30)).log10()
        q = lambda x: [round(float(t), 3) for t in torch.quantile(x.flatten(), torch.tensor([0.1, 0.5, 0.9]))]
        rows.append(dict(shape=tuple(p.shape), dyn=q(lr_(cov)), static=q(lr_(stat)), mean_ratio=float(cov.mean() / v.mean())))
    out['full' if use_full else 'cover'] = dict(val=r['final'], rows=rows)
    print('use_full', use_full, r['final'])
    for row in rows: print(row)
json.dump(out, open('diag.json', 'w'))
