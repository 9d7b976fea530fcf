#!/usr/bin/env bash
# Builds the out-of-distribution AV-Digits splits (default data/avdigits-ood/{accent-strokes,channel-fonts})
# and refreshes the committed sample (samples/avdigits-ood, 200 items of channel-fonts).
# Usage: bash tools/avdigits/build-ood.sh [OUT] [extra build_ood.py args]
# Installs its Debian packages (espeak-ng, sox, numpy, scipy, scikit-learn's digits, Pillow and the font
# packages listed in tools/avdigits/font-packages.txt) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-data/avdigits-ood}"
shift || true
PY=/usr/bin/python3

FONT_PACKAGES=$(grep -v "^#" tools/avdigits/font-packages.txt)

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
[ -x "$PY" ] || missing+=(python3)
"$PY" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
"$PY" -c 'import scipy.ndimage' 2>/dev/null || missing+=(python3-scipy)
"$PY" -c 'import PIL.ImageFont' 2>/dev/null || missing+=(python3-pil)
[ -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ] || missing+=(python3-sklearn)
for p in $FONT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The committed sample is rewritten only when building into the default location.
SAMPLE_ARGS=()
if [ "$OUT" = "data/avdigits-ood" ]; then SAMPLE_ARGS=(--sample samples/avdigits-ood); fi
exec "$PY" tools/avdigits/build_ood.py "$OUT" "${SAMPLE_ARGS[@]}" "$@"
