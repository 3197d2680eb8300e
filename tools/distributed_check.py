"""Fusedbun on sharded and replicated parameters against the single-process step (nbs/03d_distributed.ipynb runs it).

    python tools/distributed_check.py WORLD OUT.json     # WORLD spawned CPU processes, gloo; rank 0 writes OUT.json
    python tools/distributed_check.py dcp OUT.json       # checkpoints: saved on 2 ranks, loaded on 4 and on 1

On every rank: (1) each option set of OPTIONS, 20 steps of the same gradients through Fusedbun on DTensor parameters
sharded by rows (torch.distributed.tensor, Shard(0), uneven and empty shards) and through Fusedbun on plain copies in
this process, both on the multi-tensor path (foreach=True) and both on the reference path (foreach=False): bit-identity, the largest relative difference, the collectives per step (CommDebugMode), the skips of a NaN planted in
one shard; (2) the options a sharded step refuses; (3) an MLP under FSDP2's fully_shard against the same MLP in one
process; (4) DDP-style replicas (each rank its own data, gradients averaged) with the Hessian denominator, with and
without Fusedbun's averaging of the Hutchinson estimates: are the replicas identical?
`dcp`: an MLP under fully_shard on 2 ranks, 10 steps, a torch.distributed.checkpoint of model and optimizer
(get_state_dict), 10 more steps; the checkpoint loaded on 4 ranks and on 1 (set_state_dict) and trained the same 10
steps: the final parameters against the uninterrupted run's, for SM3's max cover and the mean cover."""
import json, os, sys
import torch, torch.distributed as dist, torch.multiprocessing as mp

SHAPES = [(7, 5), (5,), (3, 4), (4, 3, 2, 2), (2, 6), (1, 3)]   # uneven rows; at world 4: empty shards of (3, 4), (2, 6), (1, 3)
OPTIONS = {'defaults (mean cover)': {}, 'max cover': dict(cover='max'), 'full second moment': dict(cover='none'),
           'momentum 0': dict(momentum_beta=0.0), 'bf16 momentum': dict(momentum_dtype=torch.bfloat16),
           'eps mask': dict(sparse_update=True, eps=0.05), 'centralize': dict(centralize=True), 'constant beta': dict(beta_schedule='constant'),
           'spec, max cover': dict(beta_schedule='constant', centralize=True, cover='max', sparse_update=True, eps=0.05)}
STEPS = 20

def free_port() -> int:
    "A TCP port on the loopback interface that nothing listens on now (the rendezvous of the spawned ranks)."
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0)); return sock.getsockname()[1]

def grads_at(t, gen):
    "The full gradients of step t: random, a few exact zeros, scales that change over time."
    out = []
    for s in SHAPES:
        g = torch.randn(s, generator=gen) * (0.1 + (t % 5) / 2)
        g[torch.rand(s, generator=gen) < 0.1] = 0.0
        out.append(g)
    return out

def run(rank, world, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.set_num_threads(1)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import distribute_tensor, Shard
    from fusedbun import Fusedbun
    from torch.distributed.tensor.debug import CommDebugMode   # counts the c10d collectives a block of code issues
    mesh = init_device_mesh('cpu', (world,))
    results = {}
    for (name, kw), path in [(o, path) for o in OPTIONS.items() for path in ('multi-tensor', 'reference')]:
        torch.manual_seed(0); full = [torch.randn(s) for s in SHAPES]
        ref = [torch.nn.Parameter(x.clone()) for x in full]
        shd = [torch.nn.Parameter(distribute_tensor(x.clone(), mesh, [Shard(0)])) for x in full]
        kw = {**kw, 'foreach': path == 'multi-tensor'}   # the same path in one process and on the shards
        o_ref, o_shd = Fusedbun(ref, lr=0.01, **kw), Fusedbun(shd, lr=0.01, **kw)
        gen = torch.Generator().manual_seed(1); per_step = []
        for t in range(STEPS):
            gs = grads_at(t, gen)
            if t == 7: gs[0][3, 2] = float('nan')   # one NaN in the full gradient of parameter 0: rows 2-3 live on rank 1 at world 2 and 4
            for p, g in zip(ref, gs): p.grad = g.clone()
            for p, g in zip(shd, gs): p.grad = distribute_tensor(g.clone(), mesh, [Shard(0)])
            o_ref.step()
            with CommDebugMode() as comm: o_shd.step()
            per_step.append(comm.get_total_counts())
        diffs = [((a.full_tensor() - b.detach()).abs().max() / b.detach().abs().max()).item() for a, b in zip(shd, ref)]
        exact = all(torch.equal(a.full_tensor(), b.detach()) for a, b in zip(shd, ref))
        state = o_shd.state[shd[0]]
        results[name if path == 'multi-tensor' else f'{name}, reference path'] = dict(exact=exact, max_rel=max(diffs), collectives=max(per_step), skips=(o_shd.nonfinite_skips, o_ref.nonfinite_skips),
                             placements=[type(a.placements[0]).__name__ for a in state.get('exp_avg_sq', [])] if isinstance(state.get('exp_avg_sq'), list) else None,
                             momentum=type(state['momentum_buffer']).__name__ if 'momentum_buffer' in state else None)
    # refused options name themselves
    refused = {}
    for kw in (dict(clip_threshold=1.0), dict(prepare_hessian=True), dict(fused_backward=True)):
        try: Fusedbun([torch.nn.Parameter(distribute_tensor(torch.randn(4, 3), mesh, [Shard(0)]))], lr=0.01, **kw); refused[str(kw)] = None
        except ValueError as e: refused[str(kw)] = str(e)
    # fully_shard end to end: a small MLP, the same batches on every rank, against the same model trained in one process
    from torch.distributed.fsdp import fully_shard
    m_ref, m = _mlp(), _mlp(); fully_shard(m)
    o_ref, o = Fusedbun(m_ref.parameters(), lr=0.01, foreach=False), Fusedbun(m.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(2); losses = []
    x, y = torch.randn(32, 6, generator=gen), torch.randn(32, 3, generator=gen)   # one full batch, the same on every rank
    for t in range(30):
        for model, opt in ((m_ref, o_ref), (m, o)):
            opt.zero_grad(); loss = torch.nn.functional.mse_loss(model(x), y); loss.backward(); opt.step()
        losses.append(loss.item())
    fsdp = dict(max_rel=max(((a.full_tensor() - b.detach()).abs().max() / b.detach().abs().max()).item() for a, b in zip(m.parameters(), m_ref.parameters())),
                first=losses[0], last=losses[-1])
    # DDP-style replicas with the Hessian denominator: different data per rank, gradients averaged, estimates averaged by Fusedbun
    import fusedbun.optimizer as fo
    def replicas(average: bool) -> bool:
        "Train replicas 20 steps; are they identical at the end?"
        keep = fo.replicas_average_
        if not average: fo.replicas_average_ = lambda ds: ds      # the control: each replica keeps its own estimate
        torch.manual_seed(0); w = torch.nn.Parameter(torch.randn(5, 4)); b = torch.nn.Parameter(torch.zeros(4))
        o = Fusedbun([w, b], lr=0.01, prepare_hessian=True)
        gen = torch.Generator().manual_seed(100 + rank)
        for t in range(20):
            x = torch.randn(8, 5, generator=gen); o.zero_grad()
            loss = ((torch.tanh(x @ w + b)) ** 2).mean(); loss.backward(create_graph=True)
            for p in (w, b):
                avg = p.grad.detach().clone(); dist.all_reduce(avg); p.grad.data.copy_(avg / world)   # what DDP does to the gradient
            o.step()
        fo.replicas_average_ = keep
        mine = torch.cat([w.detach().reshape(-1), b.detach()]); gathered = [torch.empty_like(mine) for _ in range(world)]; dist.all_gather(gathered, mine)
        return all(torch.equal(gathered[0], g) for g in gathered)
    ddp = dict(identical=replicas(True), identical_without_averaging=replicas(False))
    if rank == 0:
        with open(out, 'w') as f: json.dump(dict(world=world, options=results, refused=refused, fsdp=fsdp, ddp=ddp), f, indent=1)
    dist.destroy_process_group()

def _mlp():
    "The MLP of the fully_shard and checkpoint checks, from seed 0."
    torch.manual_seed(0); return torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.GELU(), torch.nn.Linear(9, 3))

def _train(m, o, t0, t1):
    "Steps t0..t1-1 on batches that depend on the step only (the same on every rank and at every world size)."
    for t in range(t0, t1):
        g = torch.Generator().manual_seed(1000 + t); x, y = torch.randn(32, 6, generator=g), torch.randn(32, 3, generator=g)
        o.zero_grad(); torch.nn.functional.mse_loss(m(x), y).backward(); o.step()

def run_dcp(rank, world, port, mode, cover, ckpt, out):
    "mode 'save': 10 steps, checkpoint, 10 steps; 'load': load the checkpoint, the same last 10 steps. Rank 0 saves the full parameters."
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world); torch.set_num_threads(1)
    from torch.distributed.fsdp import fully_shard
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from fusedbun import Fusedbun
    m = _mlp(); fully_shard(m); o = Fusedbun(m.parameters(), lr=0.01, cover=cover)
    if mode == 'save':
        _train(m, o, 0, 10); msd, osd = get_state_dict(m, o); dcp.save({'model': msd, 'optim': osd}, checkpoint_id=ckpt); _train(m, o, 10, 20)
    else:
        msd, osd = get_state_dict(m, o); sd = {'model': msd, 'optim': osd}; dcp.load(sd, checkpoint_id=ckpt)
        set_state_dict(m, o, model_state_dict=sd['model'], optim_state_dict=sd['optim']); _train(m, o, 10, 20)
    full = [p.full_tensor() for p in m.parameters()]
    if rank == 0: torch.save(full, out)
    dist.destroy_process_group()

def check_dcp(out):
    "Save on 2 ranks, load on 4 and on 1, for each cover; writes {cover: {world: (bit-identical, largest relative difference)}}."
    import tempfile
    report = {}
    with tempfile.TemporaryDirectory() as d:
        for cover in ('max', 'mean'):
            ck, ref = f'{d}/ck_{cover}', f'{d}/ref_{cover}.pt'
            mp.spawn(run_dcp, args=(2, free_port(), 'save', cover, ck, ref), nprocs=2)
            report[cover] = {}
            for world in (4, 1):
                got = f'{d}/got_{cover}_{world}.pt'
                mp.spawn(run_dcp, args=(world, free_port(), 'load', cover, ck, got), nprocs=world)
                a, b = torch.load(ref), torch.load(got)
                report[cover][world] = (all(torch.equal(x, y) for x, y in zip(a, b)), max(((x - y).abs().max() / x.abs().max()).item() for x, y in zip(a, b)))
    with open(out, 'w') as f: json.dump(report, f, indent=1)

if __name__ == '__main__':
    if sys.argv[1] == 'dcp': check_dcp(sys.argv[2])
    else:
        world, out = int(sys.argv[1]), sys.argv[2]
        mp.spawn(run, args=(world, free_port(), out), nprocs=world)
