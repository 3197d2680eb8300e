"""fused_backward on CUDA: correctness of the kernel path in the hooks, and what one iteration of hooks costs on the 1.31 B
GPT set (each parameter's hook called in reverse order, as backward would, with preset gradients; no forward/backward)."""
import os, statistics, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository's fusedbun
import torch
from fusedbun import Fusedbun
from fusedbun.bench.speed import gpt_shapes, make_params
# correctness: a small net, fused (kernels in the hooks) vs the normal mode's reference loop
ok = True
for dt in (torch.float32, torch.bfloat16):
    torch.manual_seed(0)
    net = lambda: torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.Tanh(), torch.nn.Linear(96, 32)).to('cuda', dt)
    a, b = net(), net(); b.load_state_dict(a.state_dict())
    fa, fb = Fusedbun(a.parameters(), lr=0.01, fused_backward=True), Fusedbun(b.parameters(), lr=0.01, foreach=False)
    x, y = torch.randn(128, 64, device='cuda', dtype=dt), torch.randn(128, 32, device='cuda', dtype=dt)
    for t in range(5):
        for m, o in ((a, fa), (b, fb)):
            torch.nn.functional.mse_loss(m(x).float(), y.float()).backward(); o.step(); o.zero_grad()
    err = max(((qa.double() - qb.double()).abs().max() / qb.double().abs().max()).item() for qa, qb in zip(a.parameters(), b.parameters()))
    tol = 2e-6 if dt == torch.float32 else 6e-2; ok &= err <= tol
    print(f'fused vs reference {dt}: {err:.2e} (tol {tol:.0e}) {"ok" if err <= tol else "FAIL"}', flush=True)
# timing: one iteration of hooks (reverse parameter order), then step()
def iteration_ms(triton, reps=8):
    ps = make_params(gpt_shapes(2048, 24, 50304), 'cuda'); gs = [p.grad for p in ps]
    for p in ps: p.grad = None
    opt = Fusedbun(ps, lr=1e-3, fused_backward=True, triton=triton); ts = []
    for i in range(reps + 2):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True); a.record()
        for p, g in zip(reversed(ps), reversed(gs)):
            p.grad = g; opt._fused.after(p)   # what the post-accumulate-grad hook runs
        opt.step(); b.record(); b.synchronize()
        if i >= 2: ts.append(a.elapsed_time(b))
    del opt, ps, gs; torch.cuda.empty_cache()
    return statistics.median(ts)
ref, ker = iteration_ms(False), iteration_ms(True)
print(f'fused_backward hooks, 1.31 B GPT set: reference update {ref:.1f} ms, Triton kernels {ker:.1f} ms per iteration')
print('FUSED', 'PASSED' if ok else 'FAILED')
