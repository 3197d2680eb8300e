"Research scratch: shakespeare_char GPT and MNIST-1D reference models, warm-up + cosine, optimizer variants."
import math, os, sys, time, json
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

DATA = Path(os.environ.get('FUSEDBUN_DATA', Path(__file__).resolve().parents[2] / 'shared' / 'data'))

# ---------------- GPT ----------------
class Attn(nn.Module):
    def __init__(s, d, h, drop):
        super().__init__(); s.h, s.drop = h, drop
        s.qkv = nn.Linear(d, 3 * d, bias=False); s.proj = nn.Linear(d, d, bias=False); s.rdrop = nn.Dropout(drop)
    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.qkv(x).view(B, T, 3, s.h, C // s.h).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=s.drop if s.training else 0.0)
        return s.rdrop(s.proj(y.transpose(1, 2).reshape(B, T, C)))

class Block(nn.Module):
    def __init__(s, d, h, drop):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(d, bias=False), nn.LayerNorm(d, bias=False)
        s.attn = Attn(d, h, drop)
        s.fc, s.proj, s.drop = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False), nn.Dropout(drop)
    def forward(s, x):
        x = x + s.attn(s.ln1(x))
        return x + s.drop(s.proj(F.gelu(s.fc(s.ln2(x)))))

class GPT(nn.Module):
    def __init__(s, vocab, block, L, H, d, drop):
        super().__init__()
        s.tok, s.pos, s.drop = nn.Embedding(vocab, d), nn.Embedding(block, d), nn.Dropout(drop)
        s.blocks = nn.ModuleList(Block(d, H, drop) for _ in range(L)); s.ln = nn.LayerNorm(d, bias=False)
        s.head = nn.Linear(d, vocab, bias=False); s.head.weight = s.tok.weight
        for n, p in s.named_parameters():
            if p.dim() == 2: nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L) if n.endswith('proj.weight') else 0.02)
    def forward(s, idx):
        x = s.drop(s.tok(idx) + s.pos(torch.arange(idx.shape[1], device=idx.device)))
        for b in s.blocks: x = b(x)
        return s.head(s.ln(x))

CONFIGS = dict(cpu=dict(L=4, H=4, d=128, block=64, batch=12, drop=0.0, iters=2000, warmup=100, beta2=0.99),
               gpu=dict(L=6, H=6, d=384, block=256, batch=64, drop=0.2, iters=5000, warmup=100, beta2=0.99))

def shakespeare(device):
    path = DATA / 'tinyshakespeare.txt'
    text = path.read_text()
    chars = sorted(set(text)); stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    return ids[:n].to(device), ids[n:].to(device), len(chars)

def decay_groups(model, wd):
    dec = [p for p in model.parameters() if p.dim() >= 2]; nod = [p for p in model.parameters() if p.dim() < 2]
    return [dict(params=dec, weight_decay=wd), dict(params=nod, weight_decay=0.0)]

def lr_at(it, lr, warmup, total, min_ratio=0.1):
    if it < warmup: return lr * (it + 1) / (warmup + 1)
    r = min(1.0, (it - warmup) / max(1, total - warmup))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * r)))

def run_gpt(make_opt, lr, seed=0, cfg='cpu', device='cpu', wd=0.1, eval_every=250, eval_iters=200, iters=None, amp=False, log=None, compile_model=False):
    c = CONFIGS[cfg]; iters = iters or c['iters']
    tr, va, V = shakespeare(device)
    torch.manual_seed(seed)
    model = GPT(V, c['block'], c['L'], c['H'], c['d'], c['drop']).to(device)
    opt = make_opt(decay_groups(model, wd), lr, c)
    if compile_model: model = torch.compile(model)
    gen = torch.Generator(device='cpu').manual_seed(1000 + seed)
    def batch(data, g):
        ix = torch.randint(len(data) - c['block'] - 1, (c['batch'],), generator=g)
        off = torch.arange(c['block'] + 1)
        w = data[(ix[:, None] + off).to(data.device)]
        return w[:, :-1], w[:, 1:]
    ctx = torch.autocast('cuda', dtype=torch.bfloat16) if amp else torch.autocast('cpu', enabled=False)
    @torch.no_grad()
    def evaluate():
        model.eval(); g = torch.Generator().manual_seed(12345); tot = 0.0
        for _ in range(eval_iters):
            x, y = batch(va, g)
            with ctx: tot += F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten()).item()
        model.train(); return tot / eval_iters
    evals, t0, losses = [], time.time(), []
    for it in range(iters + 1):
        if it % eval_every == 0:
            evals.append((it, evaluate()))
            if log: print(f'{log} it {it} val {evals[-1][1]:.4f} train {np.mean(losses[-50:]) if losses else float("nan"):.4f} t {time.time()-t0:.0f}s', flush=True)
        if it == iters: break
        for g in opt.param_groups: g['lr'] = lr_at(it, lr, c['warmup'], iters) * g.get('lr_scale', 1.0)
        x, y = batch(tr, gen)
        with ctx: loss = F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten())
        if not torch.isfinite(loss): return dict(best=math.inf, final=math.inf, evals=evals, diverged=True, wall=time.time() - t0)
        loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); opt.zero_grad(set_to_none=True); losses.append(loss.item())
    v = [e for _, e in evals]
    return dict(best=min(v), final=v[-1], evals=evals, diverged=False, wall=time.time() - t0)

# ---------------- MNIST-1D ----------------
_M1D = None
def mnist1d():
    global _M1D
    if _M1D is None:
        from mnist1d.data import make_dataset, get_dataset_args
        d = make_dataset(get_dataset_args())
        x, y = torch.tensor(d['x'], dtype=torch.float32), torch.tensor(d['y'], dtype=torch.long)
        _M1D = (x[:3500], y[:3500]), (x[3500:], y[3500:]), (torch.tensor(d['x_test'], dtype=torch.float32), torch.tensor(d['y_test'], dtype=torch.long))
    return _M1D

class MLP(nn.Module):
    def __init__(s, h=100):
        super().__init__(); s.l1, s.l2, s.l3 = nn.Linear(40, h), nn.Linear(h, h), nn.Linear(h, 10)
    def forward(s, x):
        h = s.l1(x).relu(); h = h + s.l2(h).relu(); return s.l3(h)

class CNN(nn.Module):
    def __init__(s, c=25):
        super().__init__()
        s.c1, s.c2, s.c3 = nn.Conv1d(1, c, 5, 2, 1), nn.Conv1d(c, c, 3, 2, 1), nn.Conv1d(c, c, 3, 2, 1); s.lin = nn.Linear(c * 5, 10)
    def forward(s, x):
        h = x.view(-1, 1, x.shape[-1]); h = s.c1(h).relu(); h = s.c2(h).relu(); h = s.c3(h).relu()
        return s.lin(h.flatten(1))

def run_m1d(make_opt, lr, seed=0, arch='mlp', steps=6000, bs=100, wd=0.0, warmup_frac=0.05, schedule=True):
    (xt, yt), (xv, yv), (xs, ys) = mnist1d()
    torch.manual_seed(seed); model = MLP() if arch == 'mlp' else CNN()
    opt = make_opt(decay_groups(model, wd), lr, dict(beta2=0.999))
    gen = torch.Generator().manual_seed(1000 + seed); t0 = time.time(); warm = int(warmup_frac * steps)
    for it in range(steps):
        if schedule:
            for g in opt.param_groups: g['lr'] = lr_at(it, lr, warm, steps)
        i = torch.randint(0, len(yt), (bs,), generator=gen)
        loss = F.cross_entropy(model(xt[i]), yt[i])
        if not torch.isfinite(loss): return dict(val=0.0, test=0.0, diverged=True)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    with torch.no_grad():
        acc = lambda x, y: (model(x).argmax(-1) == y).float().mean().item()
        return dict(val=acc(xv, yv), test=acc(xs, ys), train_loss=loss.item(), diverged=False, wall=time.time() - t0)

# ---------------- optimizers ----------------
def fb(**kw):
    from fusedbun import Fusedbun
    def make(groups, lr, c):
        gs = [dict(params=g['params'], Lambda=g['weight_decay']) for g in groups]
        return Fusedbun(gs, lr=lr, **kw)
    return make

def adamw(groups, lr, c):
    cuda = groups[0]['params'][0].is_cuda
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, c.get('beta2', 0.999)), fused=cuda or None)

def lion(groups, lr, c):
    import pytorch_optimizer as po
    return po.Lion(groups, lr=lr, betas=(0.9, 0.99))
