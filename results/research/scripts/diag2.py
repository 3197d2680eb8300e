"On one training trajectory (the full second moment steers it), shadow the max cover and the mean cover and compare each with v."
import math, torch, json, sys
torch.set_num_threads(1)
from lab import *

class Shadow(torch.optim.Optimizer):
    def __init__(self, params, lr, beta_decay=0.8, eps=1e-8, mb=0.9):
        super().__init__(params, dict(lr=lr, Lambda=0.0)); self.bd, self.eps, self.mb = beta_decay, eps, mb
    @torch.no_grad()
    def step(self):
        for gr in self.param_groups:
            for p in gr['params']:
                g = p.grad; st = self.state[p]
                if not st:
                    st.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                    if p.dim() == 2: st.update(R=torch.zeros(p.shape[0], 1), C=torch.zeros(1, p.shape[1]), Rm=torch.zeros(p.shape[0], 1), Cm=torch.zeros(1, p.shape[1]))
                st['step'] += 1; b = 1 - st['step'] ** (-self.bd)
                m = st['m'].mul_(self.mb).add_(g, alpha=1 - self.mb)
                st['v'].mul_(b).addcmul_(g, g, value=1 - b)
                if p.dim() == 2:
                    nu = torch.minimum(st['R'], st['C']) * b + (1 - b) * g * g
                    st['R'].copy_(nu.amax(1, keepdim=True)); st['C'].copy_(nu.amax(0, keepdim=True))
                    nm = st['Rm'] * st['Cm'] / st['Rm'].mean().clamp_min(1e-30) * b + (1 - b) * g * g
                    st['Rm'].copy_(nm.mean(1, keepdim=True)); st['Cm'].copy_(nm.mean(0, keepdim=True))
                if gr.get('Lambda'): p.mul_(1 - gr['lr'] * gr['Lambda'])
                p.addcdiv_(m, st['v'].sqrt() + self.eps, value=-gr['lr'])

holder = {}
iters = int(sys.argv[1])
r = run_gpt(lambda groups, lr, c: holder.setdefault('opt', Shadow([dict(params=g['params'], Lambda=g['weight_decay']) for g in groups], lr)), 4e-3, iters=iters, eval_every=iters, eval_iters=20)
opt = holder['opt']; out = dict(iters=iters, val=r['final'], tensors=[])
names = ['tok', 'pos'] + [f'block{i}.{n}' for i in range(4) for n in ('qkv', 'attn.proj', 'fc', 'mlp.proj')]
k = 0
for p in opt.param_groups[0]['params']:
    st = opt.state[p]
    if p.dim() != 2: continue
    v = st['v'].clamp_min(1e-30)
    mx = torch.minimum(st['R'], st['C']); mn = st['Rm'] * st['Cm'] / st['Rm'].mean()
    lr_ = lambda a: (a / v).log10().flatten()
    h = lambda x: torch.histc(x.clamp(-3, 3), bins=60, min=-3, max=3).tolist()
    out['tensors'].append(dict(name=names[k] if k < len(names) else str(k), shape=list(p.shape), max_hist=h(lr_(mx)), mean_hist=h(lr_(mn)),
                               max_q=torch.quantile(lr_(mx), torch.tensor([.1, .5, .9])).tolist(), mean_q=torch.quantile(lr_(mn), torch.tensor([.1, .5, .9])).tolist()))
    k += 1
    print(out['tensors'][-1]['name'], out['tensors'][-1]['shape'], [round(x, 2) for x in out['tensors'][-1]['max_q']], [round(x, 2) for x in out['tensors'][-1]['mean_q']], flush=True)
json.dump(out, open('diag2.json', 'w'))
