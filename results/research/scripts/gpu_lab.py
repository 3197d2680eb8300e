"Run a list of shakespeare_char jobs concurrently on one GPU until a deadline; results stream to $OUT/results.jsonl."
import json, multiprocessing as mp, os, sys, time, traceback

OUT = os.environ.get('OUT', '/tmp/out')

def make_opt(spec):
    import torch
    from lab import adamw, fb, lion
    name, _, args = spec.partition(':')
    kw = {}
    for a in filter(None, args.split(',')):
        k, v = a.split('=')
        kw[k] = {'True': True, 'False': False, 'bf16': torch.bfloat16}.get(v, v)
        if isinstance(kw[k], str):
            try: kw[k] = float(v) if '.' in v or 'e' in v else int(v)
            except ValueError: pass
    if name == 'adamw': return adamw
    if name == 'proto':
        from proto import make
        return make(**kw)
    if name == 'lion': return lion
    return fb(**kw)

def job(j):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    from lab import run_gpt
    t0 = time.time()
    try:
        r = run_gpt(make_opt(j['opt']), j['lr'], seed=j['seed'], cfg=j['cfg'], device=os.environ.get('DEV', 'cuda'), iters=j.get('iters'), eval_every=j.get('eval_every', 250), eval_iters=j.get('eval_iters', 200), amp=j['cfg'] == 'gpu' and os.environ.get('DEV', 'cuda') == 'cuda',
                    log=f"{j['cfg']} {j['opt']} lr={j['lr']} s={j['seed']}", compile_model=j['cfg'] == 'gpu' and os.environ.get('DEV', 'cuda') == 'cuda')
        r.update(j, wall=time.time() - t0)
    except Exception as e:
        r = dict(j, error=traceback.format_exc()[-2000:])
    with open(f'{OUT}/results.jsonl', 'a') as f: f.write(json.dumps(r) + '\n')
    return r

if __name__ == '__main__':
    jobs = json.load(open(sys.argv[1])); procs = int(sys.argv[2]); deadline = time.time() + float(sys.argv[3])
    os.makedirs(OUT, exist_ok=True)
    ctx = mp.get_context('spawn')
    with ctx.Pool(procs, maxtasksperchild=1) as pool:
        res = [pool.apply_async(job, (j,)) for j in jobs]
        while time.time() < deadline and not all(r.ready() for r in res): time.sleep(2)
        pool.terminate()
    rows = [json.loads(l) for l in open(f'{OUT}/results.jsonl')] if os.path.exists(f'{OUT}/results.jsonl') else []
    print(f'{len(rows)} of {len(jobs)} jobs done')
    for r in sorted(rows, key=lambda r: (r['cfg'], r['opt'], r['lr'], r['seed'])):
        print(f"{r['cfg']:4s} {r['opt']:55s} lr={r['lr']:<8.3g} s={r['seed']} best={r.get('best', float('nan')):.4f} final={r.get('final', float('nan')):.4f} wall={r.get('wall', 0):.0f}s {'ERR' if 'error' in r else ''}")
