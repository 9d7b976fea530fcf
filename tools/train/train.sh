#!/usr/bin/env bash
# Trains both AV-Digits encoders and writes models/{audio-digits.onnx,image-digits.onnx,models.json,training-log.txt}.
# Usage: bash tools/train/train.sh [extra train.py args]
# Installs python3-torch and python3-onnx (Debian) when missing; builds data/avdigits first when it is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3

missing=()
[ -x "$PY" ] || missing+=(python3)
"$PY" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
"$PY" -c 'import onnx' 2>/dev/null || missing+=(python3-onnx)
"$PY" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ ! -f data/avdigits/manifest.jsonl ]; then
  bash tools/avdigits/build.sh data/avdigits
fi
exec "$PY" tools/train/train.py --data data/avdigits --sample samples/avdigits --out models "$@"
