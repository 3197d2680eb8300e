#!/bin/bash
# One device call: environment, CUDA parity (every fast path against the reference driver: prints a PASS/FAIL table),
# the Triton tile sweep (TILES=1), the benchmark table + scaling curve, fused-backward hooks (FUSED=1). Logs under $OUT.
# Path choices are constructor options in these scripts; no FUSEDBUN_* variable is needed.
export PYTHONUNBUFFERED=1 PYTHONPATH=.:.pyopt
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee $OUT/env.txt
python3 -c "import torch, triton; print(torch.__version__, triton.__version__, torch.cuda.get_device_name())" | tee -a $OUT/env.txt
python3 -c "import pytorch_optimizer; print('pytorch_optimizer', pytorch_optimizer.__file__)" 2>&1 | tail -1 | tee -a $OUT/env.txt
timeout ${PARITY_S:-150} python3 bench_gpu/parity_cuda.py 2>&1 | grep -v Warning | tee $OUT/parity.log
[ -n "$TILES" ] && timeout ${TILES_S:-200} python3 bench_gpu/tiles.py 2>&1 | tee $OUT/tiles.log
timeout ${BENCH_S:-300} python3 -m fusedbun.bench.speed --device cuda --steps 15 --out $OUT ${SCALING:---scaling} 2>&1 | tee $OUT/speed.log
[ -n "$FUSED" ] && timeout ${FUSED_S:-150} python3 bench_gpu/fused_hooks.py 2>&1 | tee $OUT/fused.log
