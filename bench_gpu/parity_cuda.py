"""CUDA parity of fusedbun.foreach against Fusedbun._update (eager foreach on every option set; compiled on a few)."""
import os, sys, time, torch
from fusedbun.foreach import parity_error
options = [{}, dict(cover=False), dict(momentum_beta=0.0), dict(momentum_placement='post'), dict(centralize=False),
           dict(use_rms=False), dict(sparse_update=False), dict(clip_threshold=0.5), dict(beta_schedule='adalite'),
           dict(momentum_dtype=torch.bfloat16), dict(Lambda=0.0), dict(Lambda=0.5, lr=0.05),
           dict(use_rms=False, momentum_beta=0.0, centralize=False),
           dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16, beta_schedule='adalite')]
ok = True
def show(tag, opts, dt, err, tol):
    global ok
    good = err <= tol; ok &= good
    print(f"{tag:8s} {str(dt):15s} {err:.2e} {'ok' if good else 'FAIL'} {opts}", flush=True)
for mode, opts_list in [('0', options), ('1', [{}, dict(momentum_beta=0.0),
                                               dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16)])]:
    os.environ['FUSEDBUN_COMPILE'] = mode
    t = time.time()
    for opts in opts_list:
        for dt in (torch.float32, torch.bfloat16):
            err = parity_error(opts, device='cuda', dtype=dt, second_group=dict(lr=0.02, cover=False) if opts == {} else None)
            show('eager' if mode == '0' else 'compiled', opts, dt, err, (1e-5 if dt == torch.float32 and not opts.get('momentum_dtype') else 1e-6) if mode == '0' else (2e-5 if dt == torch.float32 and not opts.get('momentum_dtype') else 2e-2))
    print(f'mode {mode}: {time.time() - t:.1f} s', flush=True)
print('CUDA PARITY', 'PASSED' if ok else 'FAILED')
