"""CUDA parity of every fast path against the reference driver (`fusedbun.step.reference_step_`), on a GPU.

    python bench_gpu/parity_cuda.py            # from the repository root; prints a PASS/FAIL table, exits 1 on a failure

- eager foreach (04_foreach's `foreach_step_`): every option set of the parity list, float32 and bfloat16;
- compiled (04b_dispatch's cascade with compile=True, triton=False): three option sets;
- the Triton kernels (the cascade with triton=True, compile=False): every option set (those the kernels do not
  implement must fall through to the other paths) x float32/bfloat16/float16, on matrices spanning several tiles, with
  the number of matrices the kernels took counted;
- `Fusedbun.step` on the CUDA defaults: inf/NaN gradients skipped exactly as the reference skips them (the kernels'
  row means are the screen);
- fused backward through the kernels (one-matrix lists from the hooks) against the normal mode's reference loop.
Path choices are constructor options / keywords here: no FUSEDBUN_* environment variable is read or needed.
"""
import os, sys, time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository's fusedbun, not an installed one
import torch

from fusedbun import dispatch
from fusedbun.foreach import foreach_step_
from fusedbun.optimizer import Fusedbun
from fusedbun.step import step_options
from fusedbun.testing import parity_error

assert torch.cuda.is_available(), 'no CUDA device'
rows = []


def options(**kw):
    "A complete param group's options: Fusedbun's defaults (lr=0.01) with `kw` over them."
    return {k: v for k, v in Fusedbun([torch.zeros(1, requires_grad=True)], **{'lr': 0.01, **kw}).param_groups[0].items() if k != 'params'}


def cascade(o, **paths):
    "04b_dispatch's multi-tensor cascade for options `o`, with the given compile/triton switches."
    return partial(dispatch.fusedbun_, fast=True, means=None, momentum_dtype=o['momentum_dtype'], **paths)


def record(check, opts, dt, err, tol, note=''):
    "One row of the table."
    rows.append((check, str(opts), str(dt).replace('torch.', ''), err, tol, err <= tol, note))
    print(f"{check:9s} {str(dt).replace('torch.', ''):9s} {err:.2e} (tol {tol:.0e}) {'PASS' if err <= tol else 'FAIL'} {opts} {note}", flush=True)


PARITY = [{}, dict(cover='max'), dict(cover=False), dict(momentum_beta=0.0), dict(momentum_placement='post'), dict(centralize=True),
          dict(use_rms=False), dict(sparse_update=True), dict(clip_threshold=0.5), dict(beta_schedule='constant'),
          dict(momentum_dtype=torch.bfloat16), dict(cover='max', momentum_dtype=torch.bfloat16), dict(Lambda=0.0), dict(Lambda=0.5, lr=0.05),
          dict(use_rms=False, momentum_beta=0.0, centralize=True),
          dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16, beta_schedule='constant'),
          dict(cover=True, centralize=True, sparse_update=True, beta_schedule='constant')]  # the defaults' neighbours, the old defaults (the spec's)

t = time.time()
for kw in PARITY:
    for dt in (torch.float32, torch.bfloat16):
        o = options(**kw)
        err = parity_error(o, foreach_step_, device='cuda', dtype=dt, second_group=options(lr=0.02, cover=False) if not kw else None)
        record('eager', kw, dt, err, 1e-5 if dt == torch.float32 and not kw.get('momentum_dtype') else 1e-6)
print(f'eager: {time.time() - t:.1f} s', flush=True)

t = time.time()
for kw in [{}, dict(momentum_beta=0.0), dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16)]:
    for dt in (torch.float32, torch.bfloat16):
        o = options(**kw)
        err = parity_error(o, cascade(o, compile=True, triton=False), device='cuda', dtype=dt)
        record('compiled', kw, dt, err, 2e-5 if dt == torch.float32 and not kw.get('momentum_dtype') else 2e-2)
print(f'compiled: {time.time() - t:.1f} s', flush=True)

assert dispatch.use_triton(torch.device('cuda'), True), 'Triton kernels unavailable on this device'
calls = []
bucket = dispatch.kernel_bucket_
def spy(ps, *a, **kw):
    "Count the matrices the kernels take."
    rest = bucket(ps, *a, **kw); calls.append(len(ps) - len(rest)); return rest
dispatch.kernel_bucket_ = spy
shapes = ((), (7,), (5, 6), (3, 4, 2, 3), (9, 4), (40, 640), (70, 320), (1, 528), (300, 1024), (1000, 48), (1000, 37))  # 5 kernel matrices
t = time.time()
for kw in PARITY + [dict(eps=1e-2, sparse_update=True), dict(momentum_beta=0.0, cover='max')]:
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        calls.clear(); o = options(**kw)
        err = parity_error(o, cascade(o, compile=False, triton=True), device='cuda', dtype=dt, shapes=shapes)
        used = dispatch.options_supported(**step_options(o))   # do the kernels implement these options?
        tol = 3e-5 if dt == torch.float32 and not kw.get('momentum_dtype') else 6e-2
        ok_calls = sum(calls) == 5 * 20 if used else sum(calls) == 0
        record('triton', kw, dt, err if ok_calls else float('inf'), tol, f'kernel updates {sum(calls)}' + ('' if ok_calls else ' (WRONG COUNT)'))
print(f'triton: {time.time() - t:.1f} s', flush=True)
dispatch.kernel_bucket_ = bucket

# Fusedbun.step on the CUDA defaults: the kernels' row means are the non-finite screen; inf/NaN matrices are skipped exactly as the reference does
for dt in (torch.float32, torch.bfloat16):
    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(s, device='cuda', dtype=dt)) for s in ((400, 640), (64,), (80, 320), (5, 6))]
    b = [torch.nn.Parameter(x.detach().clone()) for x in a]
    oa, ob = Fusedbun(a, lr=0.01), Fusedbun(b, lr=0.01, foreach=False)
    for t_ in range(6):
        for x, y in zip(a, b):
            x.grad = torch.randn(x.shape, device='cuda', dtype=dt); y.grad = x.grad.clone()
        if t_ == 0: a[0].grad[3, 5] = b[0].grad[3, 5] = float('inf')
        if t_ == 3: a[2].grad[0, 0] = b[2].grad[0, 0] = float('nan')
        if t_ == 4: a[3].grad[1, 1] = b[3].grad[1, 1] = float('inf')
        oa.step(); ob.step()
    err = max(((x.double() - y.double()).abs().max() / y.double().abs().max()).item() for x, y in zip(a, b))
    same = oa.nonfinite_skips == ob.nonfinite_skips == 3 and all(oa.state[x]['step'] == ob.state[y]['step'] for x, y in zip(a, b))
    record('step', 'inf/NaN skips', dt, err if same else float('inf'), 2e-6 if dt == torch.float32 else 6e-2, f'skips {oa.nonfinite_skips}')

# fused backward: each weight matrix's hook runs the kernels on a one-matrix list; the normal mode's reference loop as the oracle
for dt in (torch.float32, torch.bfloat16):
    torch.manual_seed(0)
    net = lambda: torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.Tanh(), torch.nn.Linear(96, 32)).to('cuda', dt)
    na, nb = net(), net(); nb.load_state_dict(na.state_dict())
    fa, fb = Fusedbun(na.parameters(), lr=0.01, fused_backward=True), Fusedbun(nb.parameters(), lr=0.01, foreach=False)
    x, y = torch.randn(128, 64, device='cuda', dtype=dt), torch.randn(128, 32, device='cuda', dtype=dt)
    for _ in range(5):
        for m, o in ((na, fa), (nb, fb)):
            torch.nn.functional.mse_loss(m(x).float(), y.float()).backward(); o.step(); o.zero_grad()
    err = max(((qa.double() - qb.double()).abs().max() / qb.double().abs().max()).item() for qa, qb in zip(na.parameters(), nb.parameters()))
    record('fused', 'hooks vs reference', dt, err, 2e-6 if dt == torch.float32 else 6e-2)

print(f'\n{torch.cuda.get_device_name()}, torch {torch.__version__}')
print('| check | options | dtype | error | tolerance | result | note |\n|---|---|---|---|---|---|---|')
for check, opts, dt, err, tol, ok, note in rows:
    print(f'| {check} | {opts} | {dt} | {err:.2e} | {tol:.0e} | {"PASS" if ok else "FAIL"} | {note} |')
failed = [r for r in rows if not r[5]]
print(f'\n{len(rows) - len(failed)} of {len(rows)} checks passed')
print('CUDA PARITY', 'PASSED' if not failed else 'FAILED')
sys.exit(1 if failed else 0)
