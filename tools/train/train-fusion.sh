#!/usr/bin/env bash
# Fits the fusion's own parameters: dumps what the real pipeline's fusion sees on the val split under the fault
# curriculum (eval --dump-features), then trains the learned head and fits the per-pattern temperatures on it.
# Writes models/{fusion-head.onnx,fusion.json,fusion-training-log.txt}. Never reads test or OOD data.
# Usage: bash tools/train/train-fusion.sh [DUMP_DIR] [extra train_fusion.py args]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
DUMP=${1:-artifacts/fusion-dump}
shift || true

. tools/train/python-deps.sh
if [ ! -f data/avdigits/manifest.jsonl ]; then
  bash tools/avdigits/build.sh data/avdigits
fi
# The dump runs with no fusion calibration and a recording head: models/fusion.json is not read by it.
dotnet run -c Release --project src/FusionActors.Host -- eval --dump-features "$DUMP" --dataset data/avdigits --split val
exec "$PY" tools/train/train_fusion.py --dump "$DUMP" --out models "$@"
