# Sourced by the training scripts: installs Debian's python3 (if absent), python3-torch, python3-onnx and python3-numpy (apt) when the
# system Python lacks any of them. Expects PY to name that Python.
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
