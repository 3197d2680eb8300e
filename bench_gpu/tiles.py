"""Tile-shape sweep of the Triton kernel (nbs/04a_triton.ipynb) on the 1.31 B GPT set: median step ms per
(BLOCK_R, BLOCK_C, NUM_WARPS), with fused AdamW timed in the same process as the yardstick."""
import gc, os, statistics, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository's fusedbun
import torch
from fusedbun import Fusedbun, triton_kernel as tk
from fusedbun.bench.speed import gpt_shapes, make_params, time_steps
configs = [(16, 128, 4), (16, 64, 2), (8, 128, 2), (32, 64, 4), (8, 256, 4), (16, 64, 4)]
shapes = gpt_shapes(2048, 24, 50304)
def timed(make, steps=15):
    ps = make_params(shapes, 'cuda'); opt = make(ps)
    ms = statistics.median(time_steps(opt, 'cuda', steps)); del opt, ps; gc.collect(); torch.cuda.empty_cache()
    return ms
adamw = timed(lambda ps: torch.optim.AdamW(ps, lr=1e-3, fused=True))
print(f'AdamW fused: {adamw:.2f} ms', flush=True)
rows = []
for br, bc, nw in configs:
    tk.BLOCK_R, tk.BLOCK_C, tk.NUM_WARPS = br, bc, nw
    for name, kw in [('default', {}), ('bf16 momentum', dict(momentum_dtype=torch.bfloat16))]:
        ms = timed(lambda ps: Fusedbun(ps, lr=1e-3, foreach=True, triton=True, **kw))
        rows.append((br, bc, nw, name, ms)); print(f'{br}x{bc} w{nw} {name}: {ms:.2f} ms = {ms / adamw:.3f}x AdamW fused', flush=True)
adamw2 = timed(lambda ps: torch.optim.AdamW(ps, lr=1e-3, fused=True))
print(f'AdamW fused again: {adamw2:.2f} ms')
print('| BLOCK_R | BLOCK_C | warps | momentum | ms | x AdamW fused |\n|---|---|---|---|---|---|')
for br, bc, nw, name, ms in rows: print(f'| {br} | {bc} | {nw} | {name} | {ms:.2f} | {ms / adamw:.3f} |')
