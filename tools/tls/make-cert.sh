#!/usr/bin/env bash
# Creates a self-signed certificate for TLS between FusionActors nodes on one machine or a test network:
#   bash tools/tls/make-cert.sh [OUT_DIR] [PASSWORD]   -> OUT_DIR/fusion-node.pfx (default artifacts/tls)
# Then run nodes with config/node-tls.hocon (FUSION_TLS_PASSWORD or the password in the file).
# For a deployment use a certificate from your CA instead (a PFX with its private key) and set
# suppress-validation = off so nodes verify each other.
set -euo pipefail
out="${1:-artifacts/tls}"
password="${2:-fusion-dev}"
command -v openssl >/dev/null || { apt-get update -q && apt-get install -y -q openssl; }
mkdir -p "$out"
openssl req -x509 -newkey rsa:2048 -sha256 -days 365 -nodes -subj "/CN=fusionactors-node" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$out/fusion-node.key" -out "$out/fusion-node.crt" 2>/dev/null
openssl pkcs12 -export -out "$out/fusion-node.pfx" -inkey "$out/fusion-node.key" -in "$out/fusion-node.crt" -passout "pass:$password"
rm -f "$out/fusion-node.key"
echo "wrote $out/fusion-node.pfx (password '$password')"
