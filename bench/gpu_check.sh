#!/usr/bin/env bash
# One command for a machine with a GPU: the GPU figures of bench/gpu.py, then the whole test
# suite on that machine. Run from the repository root with the project installed
# (README's test command), e.g.   bash bench/gpu_check.sh 2>&1 | tee gpu-check.txt
# Results also go to $OUT/gpu-check.txt when OUT is set (the device tool's output folder).
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
log=${OUT:-.}/gpu-check.txt
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true
  echo "== bench/gpu.py"
  (cd bench && timeout 1200 "../$py" gpu.py)
  echo "== tests on this machine (CUDA visible)"
  timeout 1500 "$py" -m pytest -q -x -p no:cacheprovider 2>&1 | tail -25
} 2>&1 | tee "$log"
