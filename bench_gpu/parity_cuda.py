"""CUDA parity of fusedbun.foreach against Fusedbun._update: eager foreach on every option set, compiled on a few, and the
Triton kernel of nbs/04a_triton.ipynb (float32, bfloat16, float16; matrices spanning several tiles)."""
import os, sys, time, torch
from fusedbun import triton_kernel as tk
from fusedbun.foreach import parity_error
options = [{}, dict(cover=False), dict(momentum_beta=0.0), dict(momentum_placement='post'), dict(centralize=False),
           dict(use_rms=False), dict(sparse_update=False), dict(clip_threshold=0.5), dict(beta_schedule='adalite'),
           dict(momentum_dtype=torch.bfloat16), dict(Lambda=0.0), dict(Lambda=0.5, lr=0.05),
           dict(use_rms=False, momentum_beta=0.0, centralize=False),
           dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16, beta_schedule='adalite')]
ok = True
def show(tag, opts, dt, err, tol, extra=''):
    global ok
    good = err <= tol; ok &= good
    print(f"{tag:8s} {str(dt):15s} {err:.2e} (tol {tol:.0e}) {'ok' if good else 'FAIL'} {opts} {extra}", flush=True)
os.environ['FUSEDBUN_TRITON'] = '0'
for mode, opts_list in [('0', options), ('1', [{}, dict(momentum_beta=0.0),
                                               dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16)])]:
    os.environ['FUSEDBUN_COMPILE'] = mode
    t = time.time()
    for opts in opts_list:
        for dt in (torch.float32, torch.bfloat16):
            err = parity_error(opts, device='cuda', dtype=dt, second_group=dict(lr=0.02, cover=False) if opts == {} else None)
            show('eager' if mode == '0' else 'compiled', opts, dt, err, (1e-5 if dt == torch.float32 and not opts.get('momentum_dtype') else 1e-6) if mode == '0' else (2e-5 if dt == torch.float32 and not opts.get('momentum_dtype') else 2e-2))
    print(f'mode {mode}: {time.time() - t:.1f} s', flush=True)
# the Triton kernel: every option set (unsupported ones must fall through to the other paths), three dtypes
os.environ.update(FUSEDBUN_TRITON='1', FUSEDBUN_COMPILE='0')
from fusedbun import foreach
assert tk.kernel_available(torch.device('cuda')), 'Triton kernels unavailable'
calls = []
bucket = foreach.kernel_bucket_
def spy(opt, group, ps, beta, means=None):
    rest = bucket(opt, group, ps, beta, means); calls.extend(1 for p in ps if all(p is not q for q in rest)); return rest
foreach.kernel_bucket_ = spy
shapes = ((), (7,), (5, 6), (3, 4, 2, 3), (9, 4), (40, 640), (70, 320), (1, 528), (300, 1024), (1000, 48), (1000, 37))  # 5 kernel matrices
t = time.time()
for opts in options + [dict(eps=1e-2), dict(momentum_beta=0.0, sparse_update=False, centralize=False)]:
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        calls.clear()
        err = parity_error(opts, device='cuda', dtype=dt, shapes=shapes)
        used = tk.group_supported({**dict(cover=True, use_rms=True, prepare_hessian=False, clip_threshold=None, momentum_beta=0.9, momentum_placement='pre'), **opts})
        tol = 3e-5 if dt == torch.float32 and not opts.get('momentum_dtype') else 6e-2
        show('triton', opts, dt, err, tol, f'kernel calls {len(calls)}')
        if used and len(calls) != 5 * 20: ok = False; print('FAIL: kernel not used on every matrix')
        if not used and calls: ok = False; print('FAIL: kernel used for options it does not support')
print(f'triton: {time.time() - t:.1f} s', flush=True)
# Fusedbun.step on the kernels: their row means are the non-finite screen; inf/NaN matrices are skipped exactly as the reference does
from fusedbun import Fusedbun
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
    show('step', 'inf/NaN skips', dt, err if same else float('inf'), 2e-6 if dt == torch.float32 else 6e-2, f'skips {oa.nonfinite_skips}')
print('CUDA PARITY', 'PASSED' if ok else 'FAILED')
