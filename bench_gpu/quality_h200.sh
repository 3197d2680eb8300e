#!/usr/bin/env bash
# The shakespeare_char part of the benchmark on one H200 (issue 10): the CPU config under the full protocol for Fusedbun
# and the peers, and the GPU config (AdamW at nanoGPT's published lr, Fusedbun at the same lr, 3 seeds each), side by
# side in one call, plus the CUDA parity check of the kernels. Usage, from the repository root on the device machine:
#   OUT=<dir> CORPUS=<path of tinyshakespeare.txt> WHEELS=<folder with pytorch_optimizer's wheel> bash bench_gpu/quality_h200.sh
# Finished runs stream to $OUT/{gpu,cpu}_runs.jsonl (--cache); with CACHE_IN=<folder holding those files from an earlier
# call> they are reused, so a second call finishes an interrupted one. The tables are made from the caches afterwards
# (run_suite reads every run back from them); the device returns at most 8 files, so no --out folder is kept.
set -u
export PYTHONPATH=$PWD
LIMIT=${LIMIT:-530}
[ -n "${WHEELS:-}" ] && pip install -q --no-deps --no-index "$WHEELS"/*.whl 2>&1 | tail -1
bench() { timeout "$LIMIT" python3 -c "import sys; from fusedbun.bench.suite import main; main(sys.argv[1:])" --device cuda --no-progress --shakespeare "$CORPUS" "$@"; }
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader > "$OUT/env.txt"
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" >> "$OUT/env.txt"
echo "commit $(cat "${COMMIT_FILE:-/dev/null}" 2>/dev/null || echo unknown)" >> "$OUT/env.txt"
[ -n "${CACHE_IN:-}" ] && cp "$CACHE_IN"/*_runs.jsonl "$OUT"/ 2>/dev/null
(timeout 300 python3 bench_gpu/parity_cuda.py > "$OUT/parity.log" 2>&1; echo "parity exit $?" >> "$OUT/parity.log") &
bench --size full --tasks shakespeare-char-gpu --optimizers adamw,fusedbun --lr adamw=1e-3 --lr fusedbun=1e-3 --seeds 3 --jobs 6 \
      --cache "$OUT/gpu_runs.jsonl" --out /tmp/fb-gpu --no-plots > "$OUT/gpu.log" 2>&1 &
bench --size full --tasks shakespeare-char --optimizers fusedbun,fusedbun-bf16,fusedbun-spec,adamw,adafactor,lion,sgdm,sm3,adalite --jobs 12 \
      --cache "$OUT/cpu_runs.jsonl" --out /tmp/fb-cpu --no-plots > "$OUT/cpu.log" 2>&1 &
wait
tail -3 "$OUT/parity.log"; grep -c . "$OUT/gpu_runs.jsonl" "$OUT/cpu_runs.jsonl"
tail -40 "$OUT/cpu.log"; tail -15 "$OUT/gpu.log"
