"""Issue 15: Fusedbun on FSDP2-sharded GPT-shaped parameters across GPUs (NCCL): parity, collectives, step time, resharded checkpoints.

    torchrun --nproc_per_node 2 bench_gpu/fsdp_run.py --out DIR                 # on 2 GPUs (the issue's run)
    torchrun --nproc_per_node 1 bench_gpu/fsdp_run.py --out DIR --resume DIR/ck  # the checkpoint of the 2-GPU run, on 1 GPU
    torchrun --nproc_per_node 2 bench_gpu/fsdp_run.py --out DIR --device cpu --width 64 --layers 2 --big-width 64   # a CPU try (gloo)

What each rank does (rank 0 writes DIR/fsdp_<world>.json and prints a table):
1. parity: a GPT-shaped parameter set (gpt_shapes(d, layers, vocab)) as DTensors sharded by rows over all ranks, and on
   rank 0 the same set as plain tensors on the same device; 20 steps of the same random gradients through Fusedbun on
   both (defaults, bf16 momentum, SM3's max cover); the largest difference in ulps of the parameter's dtype;
2. collectives: CommDebugMode's count per step() and the bytes of the buffers Fusedbun reduces (the column
   accumulators and the verdicts), next to the reduce-scatter FSDP2 does for the gradients of the same set;
3. speed: per-rank step() time (CUDA events, median of --steps after 3 warm-up steps) of the sharded Fusedbun, of
   AdamW(fused=True) on the same DTensors, and of Fusedbun on one device on a plain set of the per-rank size;
4. checkpoint: with --resume, load a torch.distributed.checkpoint saved by a run at another world size (the parity
   set after 10 steps of the default option set) and run its last 10 steps: the final parameters against that run's.
"""
import argparse, json, math, os, statistics, time
from pathlib import Path

import torch
import torch.distributed as dist

from fusedbun import Fusedbun
from fusedbun.bench.speed import gpt_shapes

OPTIONS = {'defaults': {}, 'bf16 momentum': dict(momentum_dtype=torch.bfloat16), 'max cover': dict(cover='max')}


def ulps(a: torch.Tensor, b: torch.Tensor) -> float:
    "Largest |a - b| in units of the last place of b's magnitude (float32 or the parameter's dtype)."
    eps = torch.finfo(b.dtype).eps
    return ((a.double() - b.double()).abs() / (b.double().abs().clamp_min(torch.finfo(b.dtype).tiny) * eps)).max().item()


def grads_for(shapes, step, device):
    "The same random gradients on every rank for one step."
    g = torch.Generator(device='cpu').manual_seed(1000 + step)
    return [torch.randn(s, generator=g).to(device) for s in shapes]


def timed(fn, steps, device):
    "Median milliseconds of fn() over `steps` calls after 3 warm-up calls."
    for _ in range(3): fn()
    out = []
    for _ in range(steps):
        if device == 'cuda':
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); fn(); b.record(); torch.cuda.synchronize(); out.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter(); fn(); out.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument('--out', required=True, help='folder for fsdp_<world>.json and the checkpoint')
    ap.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    ap.add_argument('--width', type=int, default=512, help='width of the parity set')
    ap.add_argument('--layers', type=int, default=4, help='blocks of the parity set')
    ap.add_argument('--big-width', type=int, default=2048, help='width of the speed set (24 blocks: 1.31 B parameters at 2048)')
    ap.add_argument('--steps', type=int, default=20, help='timed steps')
    ap.add_argument('--resume', default=None, help='a checkpoint folder written by a run at another world size')
    a = ap.parse_args()
    dist.init_process_group('nccl' if a.device == 'cuda' else 'gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    if a.device == 'cuda': torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', rank)))
    device = torch.device('cuda', torch.cuda.current_device()) if a.device == 'cuda' else torch.device('cpu')
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor
    from torch.distributed.tensor.debug import CommDebugMode
    import torch.distributed.checkpoint as dcp
    mesh = init_device_mesh(a.device, (world,))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    shapes = gpt_shapes(a.width, a.layers, 512, 128)
    report = dict(world=world, device=torch.cuda.get_device_name() if a.device == 'cuda' else 'cpu', torch=torch.__version__,
                  parity={}, collectives={}, speed={}, checkpoint=None)

    def sharded_set(seed=0, dtype=torch.float32):
        torch.manual_seed(seed)
        full = [torch.randn(s).to(device, dtype) for s in shapes]
        return full, [torch.nn.Parameter(distribute_tensor(x.clone(), mesh, [Shard(0)])) for x in full]

    # 1-2. parity and collectives
    for name, kw in OPTIONS.items():
        full, shd = sharded_set()
        ref = [torch.nn.Parameter(x.clone()) for x in full]
        o_shd, o_ref = Fusedbun(shd, lr=1e-3, **kw), Fusedbun(ref, lr=1e-3, **kw)
        counts = []
        for t in range(20):
            gs = grads_for(shapes, t, device)
            for p, g in zip(shd, gs): p.grad = distribute_tensor(g, mesh, [Shard(0)])
            for p, g in zip(ref, gs): p.grad = g.clone()
            with CommDebugMode() as comm: o_shd.step()
            counts.append(comm.get_total_counts()); o_ref.step()
        got = [p.full_tensor() for p in shd]
        report['parity'][name] = dict(bit_identical=all(torch.equal(x, y.detach()) for x, y in zip(got, ref)),
                                      max_ulps=max(ulps(x, y.detach()) for x, y in zip(got, ref)), collectives_per_step=max(counts),
                                      max_rel=max(((x - y.detach()).abs().max() / y.detach().abs().max()).item() for x, y in zip(got, ref)))
    n = sum(math.prod(s) for s in shapes)
    report['collectives'] = dict(params=n, fusedbun_bytes=4 * (sum(math.prod(s[1:]) for s in shapes if len(s) > 1) + len(shapes)),
                                 fsdp_reduce_scatter_bytes=4 * n, note='bytes of the reduced buffers per step; an all-reduce sends 2(W-1)/W of its buffer, a reduce-scatter (W-1)/W')
    # 3. speed
    big = gpt_shapes(a.big_width, 24, 50304)
    full = [torch.randn(s, device=device) for s in big]
    shd = [torch.nn.Parameter(distribute_tensor(x, mesh, [Shard(0)])) for x in full]
    for p in shd: p.grad = distribute_tensor(torch.randn_like(p.full_tensor()), mesh, [Shard(0)])
    del full
    for name, make in {'Fusedbun sharded': lambda ps: Fusedbun(ps, lr=1e-3), 'AdamW fused, sharded': lambda ps: torch.optim.AdamW(ps, lr=1e-3, fused=a.device == 'cuda' or None)}.items():
        opt = make(shd); report['speed'][name] = timed(opt.step, a.steps, a.device); del opt
    local = [torch.nn.Parameter(p.to_local().clone()) for p in shd if p.to_local().numel()]
    for p in local: p.grad = torch.randn_like(p)
    opt = Fusedbun(local, lr=1e-3); report['speed']['Fusedbun one device, per-rank size'] = timed(opt.step, a.steps, a.device)
    report['speed']['params_total'] = sum(math.prod(s) for s in big)
    # 4. checkpoint: save (10 steps) here, or resume one saved at another world size; get_state_dict/set_state_dict
    # (the FSDP2 recipe) handle the optimizer's nested state (the covers are lists of DTensors), which a bare dcp.load does not
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    full, shd = sharded_set(); holder = torch.nn.ParameterList(shd); o = Fusedbun(holder.parameters(), lr=1e-3)
    def run(t0, t1):
        for t in range(t0, t1):
            for p, g in zip(shd, grads_for(shapes, t, device)): p.grad = distribute_tensor(g, mesh, [Shard(0)])
            o.step()
    if a.resume:
        msd, osd = get_state_dict(holder, o); sd = {'model': msd, 'optim': osd}
        dcp.load(sd, checkpoint_id=a.resume); set_state_dict(holder, o, model_state_dict=sd['model'], optim_state_dict=sd['optim']); run(10, 20)
        final = torch.load(Path(a.resume) / 'final.pt')
        got = [p.full_tensor().cpu() for p in shd]
        report['checkpoint'] = dict(resumed_from=a.resume, bit_identical=all(torch.equal(x, y) for x, y in zip(got, final)),
                                    max_ulps=max(ulps(x, y) for x, y in zip(got, final)))
    else:
        run(0, 10); msd, osd = get_state_dict(holder, o)
        dcp.save({'model': msd, 'optim': osd}, checkpoint_id=str(out / 'ck'))
        run(10, 20)
        final = [p.full_tensor().cpu() for p in shd]
        if rank == 0: torch.save(final, out / 'ck' / 'final.pt')
    if rank == 0:
        (out / f'fsdp_{world}.json').write_text(json.dumps(report, indent=1))
        print(json.dumps(report, indent=1))
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
