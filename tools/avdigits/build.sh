#!/usr/bin/env bash
# Builds the AV-Digits data set (default data/avdigits) and refreshes the committed sample (samples/avdigits).
# Usage: bash tools/avdigits/build.sh [OUT] [extra build_dataset.py args]
# Installs its Debian packages (espeak-ng sox python3-sklearn python3-numpy) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-data/avdigits}"
shift || true
PY=/usr/bin/python3

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
[ -x "$PY" ] || missing+=(python3)
"$PY" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
[ -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ] || missing+=(python3-sklearn)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The committed sample is rewritten only when building into the default location.
SAMPLE_ARGS=()
if [ "$OUT" = "data/avdigits" ]; then SAMPLE_ARGS=(--sample samples/avdigits); fi
exec "$PY" tools/avdigits/build_dataset.py "$OUT" "${SAMPLE_ARGS[@]}" "$@"
