#!/usr/bin/env bash
# Trains both AV-Digits encoders and writes models/{audio-digits.onnx,image-digits.onnx,models.json,training-log.txt}.
# Usage: bash tools/train/train.sh [extra train.py args]
# Installs python3-torch and python3-onnx (Debian) when missing; builds data/avdigits first when it is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3

. tools/train/python-deps.sh

if [ ! -f data/avdigits/manifest.jsonl ]; then
  bash tools/avdigits/build.sh data/avdigits
fi
exec "$PY" tools/train/train.py --data data/avdigits --sample samples/avdigits --out models "$@"
