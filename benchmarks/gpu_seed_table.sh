#!/usr/bin/env bash
# The seed's table end to end on one CUDA GPU, with the time of every step and of every stage of `run`:
# 17,801 synthetic kernels (14,322 labelled + 3,479 test), zero-shot and probe with ViT-B-32-quickgelu and
# ViT-H-14 (RANDOM weights: no download is possible there, so the scores say nothing about CLIP), the ladder,
# ConvNeXt-tiny trained from scratch 10 epochs at 224 px, the maps, the HTML and Markdown reports.
#
#   bash benchmarks/gpu_seed_table.sh [--quick]     # run from the project root; writes to $OUT (default /tmp/gpu-out)
#
# --quick: 4,000 images and 2 epochs (the same models), to check the machine in about a minute or two.
# Needs python3 with torch, timm, scikit-learn, pandas, pyarrow, pillow, and the wheels listed in
# benchmarks/gpu_seed_table_wheels.txt; when `open_clip` cannot be imported and a .whl/ folder is here, they
# are installed from it (pip --no-index --no-deps --target /tmp/site). Nothing is downloaded.
set -uo pipefail

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
OUT=${OUT:-/tmp/gpu-out}
WORK=${WORK:-/tmp/cornlens-gpu}
PYTHON=${PYTHON:-python3}
LIMIT_S=${LIMIT_S:-420}  # `run` is stopped past this, so that the log and the table still come back
mkdir -p "$OUT" "$WORK"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export TQDM_MININTERVAL=10  # progress bars redrawn every 10 s at most: a short log
export CORNLENS_CACHE="$WORK/cache" CORNLENS_ROOTS="$WORK" NUMBA_CACHE_DIR="$WORK/numba"
TIMES="$OUT/timing.txt"
: > "$TIMES"

if ! "$PYTHON" -c "import open_clip" 2>/dev/null && compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install --quiet --no-index --no-deps --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"

step() {  # step NAME COMMAND...: run it, log its output to $OUT/NAME.log, note its wall time
  local name=$1; shift
  local started=$(date +%s.%N)
  "$@" > "$OUT/$name.log" 2>&1
  local status=$?
  local seconds=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $started}")
  printf '%-10s %8s s  exit %s\n' "$name" "$seconds" "$status" | tee -a "$TIMES"
  return $status
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc; "$PYTHON" -c \
  "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

if (( QUICK )); then TRAIN=${TRAIN:-3200}; TEST=${TEST:-800}; EPOCHS=${EPOCHS:-2}; fi
TRAIN=${TRAIN:-14322}; TEST=${TEST:-3479}; EPOCHS=${EPOCHS:-10}; IMAGE_SIZE=${IMAGE_SIZE:-224}
DEVICE=${DEVICE:-cuda}  # the variables TRAIN, TEST, EPOCHS, IMAGE_SIZE, DEVICE, CLIPS, CONVNEXT change the run
CLIPS=${CLIPS:-"ViT-B-32-quickgelu:random ViT-H-14:random"}; CONVNEXT=${CONVNEXT:-convnext_tiny:scratch}
CLIP_FLAGS=(); for model in $CLIPS; do CLIP_FLAGS+=(--clip "$model"); done
DATA="$WORK/data-$TRAIN-$TEST"
BUNDLE="$WORK/bundle-$TRAIN-$TEST-e$EPOCHS"
rm -rf "$BUNDLE"

# UMAP's numba functions compile once (tens of seconds) and are cached on disk: compile them on a spare
# core while the data is drawn and the CLIP models run, so the maps do not wait for it.
"$PYTHON" benchmarks/gpu_warm_umap.py > "$OUT/warm_umap.log" 2>&1 &
WARM=$!

[[ -f "$DATA/train.csv" ]] || step synth "$PYTHON" -m analysis synth --out "$DATA" --train "$TRAIN" --test "$TEST" -q
step run timeout "$LIMIT_S" "$PYTHON" -m analysis run --data "$DATA" --out "$BUNDLE" \
  "${CLIP_FLAGS[@]}" --convnext "$CONVNEXT" --epochs "$EPOCHS" --image-size "$IMAGE_SIZE" --device "$DEVICE" \
  --workers "$(nproc)" --batch-size 256
step report "$PYTHON" -m analysis report "$BUNDLE" -q
step report_md "$PYTHON" -m analysis report "$BUNDLE" --format md --out "$OUT/report.md" -q
wait "$WARM" 2>/dev/null
echo "warm-up of UMAP: $(tail -1 "$OUT/warm_umap.log")" | tee -a "$TIMES"

"$PYTHON" - "$BUNDLE" "$OUT" <<'PY' | tee -a "$TIMES"
import json, sys
from pathlib import Path
bundle, out = Path(sys.argv[1]), Path(sys.argv[2])
manifest = json.loads((bundle / "manifest.json").read_text()) if (bundle / "manifest.json").is_file() else {}
rows = manifest.get("stage_times", [])
(out / "stage_times.json").write_text(json.dumps(rows, indent=1))
print("\nstage of `run`      time   peak memory (process)")
for row in rows:
    print(f"{row['stage']:14s} {row['seconds']:8.1f} s {row['peak_memory_mb']:8.0f} MiB")
print(f"{'total':14s} {sum(r['seconds'] for r in rows):8.1f} s")
print("\napproach                                   accuracy  wall time  device")
for record in manifest.get("approaches", []):
    print(f"{record['id'][:42]:42s} {record['metrics']['accuracy']:8.3f} {record.get('wall_time_s') or 0:9.1f} s  "
          f"{record.get('device', '')}")
print("reference:", manifest.get("reference", {}))
PY
tail -25 "$OUT/run.log" > "$OUT/run_tail.txt"
