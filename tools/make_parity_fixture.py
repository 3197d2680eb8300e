"""The parity fixture of the issue-11 move: what Fusedbun's reference and eager-foreach paths computed before the code moved.

    ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE python tools/make_parity_fixture.py nbs/fixtures/parity_ec5b50e.pt           # write it (at the commit it is named after)
    ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE python tools/make_parity_fixture.py --check nbs/fixtures/parity_ec5b50e.pt   # run every case now, compare bit for bit

The two environment variables make float32 rounding the same on any x86-64 machine (see PINNED); the fixture records them
and `--check` refuses to compare under other settings.

Only Fusedbun's public API is used (constructor, step, state_dict, load_state_dict), so this script runs unchanged before
and after the move. Every case spells out ALL constructor options of commit ec5b50e, so a later change of a default
cannot change what a case runs. The cases:

- `parity`: 04_foreach's parity list (14 option sets) x float32/bfloat16, plus its two two-group cases: 20 steps of
  random gradients (scales 0.1 to 2.1, exact zeros in a matrix) on 0-d, 1-d, 2-d, 4-d and 2-d parameters;
- `skip`: the same problem with a NaN and an inf injected (nonfinite='skip' screens);
- `sparse`: a sparse COO gradient (the reference path's densification);
- `hessian`: prepare_hessian=True (every other step a fresh Hutchinson estimate) from a loss with create_graph=True;
- `kernel`: matrices with 16k columns (the Triton kernels' shapes, so that the kernels can be checked against the
  reference numbers later) x float32/float16;
each run through `foreach=False` (the reference loop) and `foreach=True` (eager foreach: on CPU tensors neither the
compiled step nor the Triton kernels run unless asked for; the fixture was made with FUSEDBUN_COMPILE=0 and
FUSEDBUN_TRITON=0 in the environment, which on the CPU changed nothing), keeping
a SHA-256 of every step's parameters, the final parameters, the final state_dict and the skip count. Plus `checkpoint`:
an old-format state_dict after 3 steps of three param groups (default, bfloat16 momentum, Hessian) and the parameters
3 steps later, so that a resumed run can be checked bit for bit.
"""
import argparse, copy, hashlib, io, os, subprocess, sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fusedbun import Fusedbun  # noqa: E402

# The constructor's options at ec5b50e, all of them (lr=0.01: what 04_foreach's parity_runs used).
EC5B50E = dict(lr=0.01, eps=1e-8, beta_decay=0.8, Lambda=0.01, momentum_beta=0.9, centralize=True, use_rms=True,
               prepare_hessian=False, cover=True, sparse_update=True, momentum_placement='pre', beta_schedule='constant',
               clip_threshold=None, hessian_interval=1, hessian_seed=0, momentum_dtype=None, nonfinite='skip',
               fused_backward=False)
# 04_foreach's parity list at ec5b50e.
PARITY_OPTIONS = [{}, dict(cover=False), dict(momentum_beta=0.0), dict(momentum_placement='post'), dict(centralize=False),
                  dict(use_rms=False), dict(sparse_update=False), dict(clip_threshold=0.5), dict(beta_schedule='adalite'),
                  dict(momentum_dtype=torch.bfloat16), dict(Lambda=0.0), dict(Lambda=0.5, lr=0.05),
                  dict(use_rms=False, momentum_beta=0.0, centralize=False),
                  dict(momentum_placement='post', clip_threshold=0.3, cover=False, momentum_dtype=torch.bfloat16,
                       beta_schedule='adalite')]
SHAPES = ((), (7,), (5, 6), (3, 4, 2, 3), (9, 4))
KERNEL_SHAPES = ((7,), (8, 32), (33, 16), (5, 6))
KERNEL_OPTIONS = [{}, dict(momentum_beta=0.0), dict(centralize=False), dict(sparse_update=False)]
STEPS = 20


def full(opts: dict) -> dict:
    "Every constructor option of ec5b50e, with `opts` over them."
    return {**EC5B50E, **opts}


def problem(shapes, steps=STEPS, seed=0):
    "Initial parameters (seed) and `steps` rounds of gradients (seed + 1) in float32, as 04_foreach's parity_runs drew them."
    gen = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=gen) for s in shapes]
    ggen = torch.Generator().manual_seed(seed + 1)
    grads = []
    for t in range(steps):
        gs = [torch.randn(s, generator=ggen) * (0.1 + t % 3) for s in shapes]
        gs[2 if len(shapes) > 2 else 0].view(-1)[:2] = 0  # exact zeros in a matrix: the eps mask must drop them
        grads.append(gs)
    return init, grads


def cases() -> dict:
    "name -> case: shapes, groups (complete option dicts, each with the indices of its parameters), dtype, kind."
    out = {}
    every = lambda n: list(range(n))
    for i, opts in enumerate(PARITY_OPTIONS):
        for dt in (torch.float32, torch.bfloat16):
            out[f'parity/{i}/{str(dt)[6:]}'] = dict(shapes=SHAPES, groups=[(every(5), full(opts))], dtype=dt, kind='grads')
    out['parity/two-groups/float32'] = dict(shapes=SHAPES, dtype=torch.float32, kind='grads', groups=[
        ([0, 1, 2], full(dict(momentum_placement='post', clip_threshold=1.0))), ([3, 4], full(dict(lr=0.02, cover=False, momentum_beta=0.0)))])
    out['parity/two-groups/bfloat16'] = dict(shapes=SHAPES, dtype=torch.bfloat16, kind='grads', groups=[
        ([0, 1, 2], full(dict(beta_schedule='adalite'))), ([3, 4], full(dict(centralize=False, momentum_dtype=torch.bfloat16)))])
    for dt in (torch.float32, torch.bfloat16):
        out[f'skip/{str(dt)[6:]}'] = dict(shapes=SHAPES, groups=[(every(5), full({}))], dtype=dt, kind='grads',
                                          poison={5: (2, float('nan')), 9: (4, float('inf')), 12: (1, -float('inf'))})
    # foreach=True refuses sparse gradients: the fast run asks for foreach=None, which takes the reference for them
    out['sparse/float32'] = dict(shapes=((10, 4), (6,)), groups=[(every(2), full({}))], dtype=torch.float32, kind='sparse', fast=None)
    for i, opts in enumerate([dict(prepare_hessian=True, hessian_interval=2),
                              dict(prepare_hessian=True, cover=False, momentum_placement='post', hessian_seed=3)]):
        for dt in (torch.float32, torch.bfloat16):
            out[f'hessian/{i}/{str(dt)[6:]}'] = dict(shapes=SHAPES, groups=[(every(5), full(opts))], dtype=dt, kind='hessian')
    for i, opts in enumerate(KERNEL_OPTIONS):
        for dt in (torch.float32, torch.float16):
            out[f'kernel/{i}/{str(dt)[6:]}'] = dict(shapes=KERNEL_SHAPES, groups=[(every(4), full(opts))], dtype=dt, kind='grads')
    return out


def hessian_loss(ps, data):
    "A smooth loss with a non-trivial Hessian: sum of c * p^2 + d * p^3 + (a . p)^2 per parameter (float32)."
    return sum((c * p.float() ** 2).sum() + (d * p.float() ** 3).sum() + (a * p.float()).sum() ** 2 for p, (a, c, d) in zip(ps, data))


def sha(ps) -> str:
    "SHA-256 of the parameters' bytes, in order (its first 128 bits, in hex)."
    h = hashlib.sha256()
    for p in ps:
        h.update(bytes(p.detach().reshape(-1).view(torch.uint8).tolist()))
    return h.hexdigest()[:32]


def pack(obj, blobs: list):
    "`obj` with every tensor replaced by {'__tensor__': (dtype, shape, offset, nbytes)} into the byte blobs (one storage, not hundreds)."
    if isinstance(obj, torch.Tensor):
        flat = obj.detach().contiguous().reshape(-1).view(torch.uint8)
        offset = sum(b.numel() for b in blobs); blobs.append(flat)
        return {'__tensor__': (obj.dtype, tuple(obj.shape), offset, flat.numel())}
    if isinstance(obj, dict):
        return {k: pack(v, blobs) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(pack(v, blobs) for v in obj)
    return obj


def unpack(obj, data: torch.Tensor):
    "The inverse of `pack`."
    if isinstance(obj, dict) and '__tensor__' in obj:
        dtype, shape, offset, n = obj['__tensor__']
        return data[offset:offset + n].clone().view(dtype).reshape(shape)
    if isinstance(obj, dict):
        return {k: unpack(v, data) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(unpack(v, data) for v in obj)
    return obj


def save(fx: dict, path):
    "Write the fixture: its tree, and all its tensors' bytes in one uint8 tensor."
    blobs = []; tree = pack(fx, blobs)
    buf = io.BytesIO(); torch.save({'tree': tree, 'bytes': torch.cat(blobs)}, buf)
    Path(path).parent.mkdir(parents=True, exist_ok=True); Path(path).write_bytes(buf.getvalue())
    return len(buf.getvalue())


def load(path) -> dict:
    "Read a fixture written by `save` (weights_only: plain containers, numbers, strings, dtypes and one tensor)."
    raw = torch.load(path, weights_only=True)
    return unpack(raw['tree'], raw['bytes'])


def clone_state_dict(sd):
    "A deep copy of a state_dict with every tensor cloned (so later steps cannot change it)."
    return copy.deepcopy(sd)


def run(case: dict, foreach, steps=STEPS, **extra):
    "Step a fresh optimizer through the case; returns per-step hashes, final params, state_dict and skip count."
    dt = case['dtype']
    init, grads = problem(case['shapes'], steps)
    ps = [torch.nn.Parameter(x.to(dt)) for x in init]
    # every group carries all of its options; the top-level lr (required at ec5b50e) is the first group's
    groups = [dict(params=[ps[i] for i in idx], **o) for idx, o in case['groups']]
    opt = Fusedbun(groups, lr=case['groups'][0][1]['lr'], foreach=foreach, **extra)
    data = [(torch.randn(x.shape, generator=torch.Generator().manual_seed(7 + i)), torch.rand(x.shape, generator=torch.Generator().manual_seed(70 + i)) + 0.5,
             torch.randn(x.shape, generator=torch.Generator().manual_seed(700 + i)) * 0.1) for i, x in enumerate(init)]
    hashes = []
    for t in range(steps):
        if case['kind'] == 'hessian':
            opt.zero_grad(set_to_none=True)
            hessian_loss(ps, data).backward(create_graph=True)
        else:
            for p, g in zip(ps, grads[t]):
                p.grad = g.to(dt)
            if case['kind'] == 'sparse':  # row-sparse, as nn.Embedding(sparse=True) makes it: a third of the rows absent
                g = ps[0].grad.clone(); g[t % 3::3] = 0; ps[0].grad = g.to_sparse(1)
            if t in case.get('poison', {}):
                i, v = case['poison'][t]
                ps[i].grad.view(-1)[3 % ps[i].numel()] = v
        opt.step()
        hashes.append(sha(ps))
    if case['kind'] == 'hessian':
        opt.zero_grad(set_to_none=True)  # backward(create_graph=True) leaves a reference cycle through p.grad
    return dict(hashes=hashes, params=[p.detach().clone() for p in ps], state_dict=clone_state_dict(opt.state_dict()),
                skips=opt.nonfinite_skips)


def checkpoint_case():
    "Three param groups (defaults; bfloat16 momentum; Hessian), 3 steps, the state_dict; then 3 steps more."
    gen = torch.Generator().manual_seed(11)
    shapes = [(6, 5), (5,), (4, 3, 2), (7,), (3, 16), (2,)]
    init = [torch.randn(s, generator=gen) for s in shapes]
    data = [(torch.randn(s, generator=gen), torch.rand(s, generator=gen) + 0.5, torch.randn(s, generator=gen) * 0.1) for s in shapes]

    def make(params, **extra):
        groups = [dict(params=params[:2], **full({})), dict(params=params[2:4], **full(dict(momentum_dtype=torch.bfloat16, lr=0.02))),
                  dict(params=params[4:], **full(dict(prepare_hessian=True, hessian_interval=2)))]
        return Fusedbun(groups, lr=EC5B50E['lr'], **extra)

    def steps(ps, opt, n):
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            hessian_loss(ps, data).backward(create_graph=True)
            opt.step()
        opt.zero_grad(set_to_none=True)

    ps = [torch.nn.Parameter(x.clone()) for x in init]
    opt = make(ps)
    steps(ps, opt, 3)
    saved = dict(params=[p.detach().clone() for p in ps], state_dict=clone_state_dict(opt.state_dict()))
    steps(ps, opt, 3)
    return dict(shapes=shapes, init=init, data=data, at_3=saved, after_6=[p.detach().clone() for p in ps]), make, steps


# Float32 rounding depends on the machine unless these are pinned: torch's CPU kernels are vectorized per CPU capability
# (AVX2, AVX-512: a different reduction order), and MKL picks code paths per processor. 'default' (the portable kernels)
# and MKL's conditional numerical reproducibility make the same torch build round the same way on any x86-64 machine.
PINNED = {'ATEN_CPU_CAPABILITY': 'default', 'MKL_CBWR': 'COMPATIBLE'}


def arithmetic() -> dict:
    "What decides float32 rounding here: torch's CPU capability in use and MKL's reproducibility mode."
    return {'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'MKL_CBWR': os.environ.get('MKL_CBWR')}


def build() -> dict:
    "Every case through both paths, and the checkpoint."
    out = {'commit': git_commit(), 'torch': str(torch.__version__), 'arithmetic': arithmetic(),
           'options_ec5b50e': EC5B50E, 'steps': STEPS, 'cases': {}}
    for name, case in cases().items():
        out['cases'][name] = dict(case=case, reference=run(case, False), foreach=run(case, case.get('fast', True)))
    out['checkpoint'] = checkpoint_case()[0]
    return out


def git_commit() -> str:
    "The commit this runs at (with '+dirty' when the tree has changes)."
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return rev + ('+dirty' if dirty else '')
    except OSError:
        return 'unknown'


def differences(a, b, where='') -> list:
    "Where two nested results differ (tensors by torch.equal, dtype included); keys only `b` has are listed, not errors."
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        ok = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        return [] if ok else [where]
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f'{where}/{k} (missing)' for k in a if k not in b]
        return out + [d for k in a if k in b for d in differences(a[k], b[k], f'{where}/{k}')]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f'{where} (length {len(a)} vs {len(b)})']
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f'{where}[{i}]')]
    return [] if a == b or (a != a and b != b) else [f'{where} ({a!r} vs {b!r})']


def check(path, reference=None, foreach=None) -> dict:
    "Run every case of the fixture at `path` now (extra constructor options per path); name -> differences (empty: bit-identical)."
    fx = load(path)
    if fx.get('arithmetic', arithmetic()) != arithmetic():
        raise RuntimeError(f"{path} was made with {fx['arithmetic']}, this process runs {arithmetic()}: float32 results are "
                           f"bit-comparable only under the same settings (run with {PINNED} in the environment)")
    extra = dict(reference=reference, foreach=foreach)
    report = {}
    for name, c in fx['cases'].items():
        for path_name, foreach in (('reference', False), ('foreach', c['case'].get('fast', True))):
            now = run(c['case'], foreach, **(extra.get(path_name) or {}))
            report[f'{name} {path_name}'] = differences(c[path_name], now)
    report['checkpoint'] = check_checkpoint(fx['checkpoint'], foreach=True)  # the path it ran on at ec5b50e: the CPU default then
    return report


def check_checkpoint(ck, **extra) -> list:
    "Load the old state_dict into a fresh optimizer on the step-3 parameters, run 3 steps: the step-6 parameters, bit for bit."
    _, make, steps = checkpoint_case()
    ps = [torch.nn.Parameter(x.clone()) for x in ck['at_3']['params']]
    opt = make(ps, **extra)
    opt.load_state_dict(ck['at_3']['state_dict'])
    for g in opt.param_groups: g.update(extra)  # the saved groups carry their foreach=None; resume on the path asked for
    steps(ps, opt, 3)
    return differences(ck['after_6'], [p.detach() for p in ps], 'resumed params')


if __name__ == '__main__':
    for k in ('FUSEDBUN_COMPILE', 'FUSEDBUN_TRITON'): os.environ.pop(k, None)  # the CPU defaults: eager paths only
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('path', help='the fixture file')
    ap.add_argument('--check', action='store_true', help='compare the current code against the fixture instead of writing it')
    args = ap.parse_args()
    if args.check:
        rep = check(args.path, reference={}, foreach=dict(compile=False, triton=False))  # the eager paths, spelled out
        bad = {k: v for k, v in rep.items() if v}
        for k, v in rep.items():
            print(f"{'ok  ' if not v else 'DIFF'} {k}" + (f": {v[:4]}" if v else ''))
        print(f'{len(rep) - len(bad)} of {len(rep)} runs bit-identical to {args.path}')
        sys.exit(1 if bad else 0)
    fx = build()
    size = save(fx, args.path)
    print(f"wrote {args.path}: {len(fx['cases'])} cases x 2 paths + checkpoint, {size / 1024:.0f} KiB, commit {fx['commit']}")
