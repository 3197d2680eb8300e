"""fused_backward on CUDA: what one iteration of hooks costs on the 1.31 B GPT set (each parameter's hook called in reverse
order, as backward would, with preset gradients; no forward/backward), with the Triton kernels and with the reference update.
The hooks' correctness against the normal mode is checked by bench_gpu/parity_cuda.py."""
import os, statistics, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository's fusedbun
import torch
from fusedbun import Fusedbun
from fusedbun.bench.speed import gpt_shapes, make_params
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
