"Prototype second-moment variants for Fusedbun (reference math only): where does the cover lose, and what fixes it cheaply?"
import math, torch

class Proto(torch.optim.Optimizer):
    def __init__(self, params, lr, eps=1e-8, beta_decay=0.8, Lambda=0.0, momentum_beta=0.9, moment='cover', mask=True, centralize=False):
        super().__init__(params, dict(lr=lr, eps=eps, beta_decay=beta_decay, Lambda=Lambda, momentum_beta=momentum_beta, weight_decay=0.0))
        self.moment, self.mask, self.cent = moment, mask, centralize

    @torch.no_grad()
    def step(self):
        for g_ in self.param_groups:
            lam = g_.get('Lambda', 0.0) or g_.get('weight_decay', 0.0)
            for p in g_['params']:
                if p.grad is None: continue
                g = p.grad.float(); st = self.state[p]
                if not st:
                    st['step'] = 0; st['m'] = torch.zeros_like(p)
                    if p.dim() >= 2 and self.moment != 'full':
                        st['row'] = torch.zeros(p.shape[0], 1, device=p.device); st['col'] = torch.zeros(1, p[0].numel(), device=p.device); st['vbar'] = torch.zeros((), device=p.device)
                    else: st['v'] = torch.zeros_like(p)
                st['step'] += 1; t = st['step']
                beta = 1 - t ** (-g_['beta_decay'])
                if self.cent and g.dim() > 1: g = g - g.mean(dim=tuple(range(1, g.dim())), keepdim=True)
                shape = g.shape
                M = (g.abs() > g_['eps']) if (self.mask and g.dim() > 1) else None
                if M is not None: g = g * M
                m = st['m'].mul_(g_['momentum_beta']).add_(g, alpha=1 - g_['momentum_beta'])
                if 'v' in st:
                    v = st['v']; new = v * beta + (1 - beta) * g * g
                    v.copy_(torch.where(M, new, v) if M is not None else new); nu = v
                    u = m / (nu.sqrt() + g_['eps'])
                else:
                    g2 = (g * g).reshape(shape[0], -1); Mf = M.reshape(shape[0], -1) if M is not None else None
                    R, C = st['row'], st['col']
                    if self.moment == 'sm3mean':
                        # SM3-II form with mean accumulators: nu = beta*R C/mean(R) + (1-beta) g^2 (masked), then R, C <- row/col means of nu
                        prev = R * C / R.mean().clamp_min(1e-30); nu = prev * beta + (1 - beta) * g2
                        if Mf is not None: nu = torch.where(Mf, nu, prev)
                        R.copy_(nu.mean(1, keepdim=True)); C.copy_(nu.mean(0, keepdim=True))
                    elif self.moment == 'factored':
                        # Adafactor: EMA of row and column means of g², estimate R C / mean(R)
                        R.mul_(beta).add_(g2.mean(1, keepdim=True), alpha=1 - beta); C.mul_(beta).add_(g2.mean(0, keepdim=True), alpha=1 - beta)
                        nu = R * C / R.mean().clamp_min(1e-30)
                    else:
                        prev = torch.minimum(R, C); nu = prev * beta + (1 - beta) * g2
                        if Mf is not None: nu = torch.where(Mf, nu, prev)
                        R.copy_(nu.amax(1, keepdim=True)); C.copy_(nu.amax(0, keepdim=True))
                    vb = st['vbar'].mul_(beta).add_(g2.mean(), alpha=1 - beta)
                    mf = m.reshape(shape[0], -1)
                    if self.moment in ('cover', 'factored', 'sm3mean'):
                        u = mf / (nu.sqrt() + g_['eps'])
                    elif self.moment == 'cover-mean':
                        # rescale the cover so its mean equals the tensor's mean second moment (a per-tensor scalar EMA)
                        c = (vb / nu.mean().clamp_min(1e-30))
                        u = mf / ((nu * c).sqrt() + g_['eps'])
                    elif self.moment == 'graft':
                        # SM3 direction, per-tensor norm of the Adam-mini-like step ||m|| / sqrt(vbar)
                        d = mf / (nu.sqrt() + g_['eps'])
                        u = d * ((mf.norm() / (vb.sqrt() + g_['eps'])) / d.norm().clamp_min(1e-30))
                    elif self.moment == 'cover-rms':
                        d = mf / (nu.sqrt() + g_['eps'])
                        u = d * (0.2 / (d.square().mean().sqrt().clamp_min(1e-30)))
                    u = u.reshape(shape)
                if lam: p.mul_(1 - g_['lr'] * lam)
                p.add_(u.to(p.dtype), alpha=-g_['lr'])

def make(**kw):
    def mk(groups, lr, c):
        gs = [dict(params=g['params'], Lambda=g['weight_decay']) for g in groups]
        return Proto(gs, lr=lr, **kw)
    return mk
