#!/usr/bin/env bash
# A local certificate authority for TLS between FusionActors nodes and clients, and certificates it signs:
#   bash tools/tls/make-ca.sh [--out DIR] [--password P] [--ca NAME] [--client NAME | --no-client] [NODE_NAME...]
# writes into DIR (default artifacts/tls):
#   NAME.crt           the CA certificate (PEM; default NAME "ca"): fusion.tls.ca on nodes, ClientTls.CaPath / --tls-ca on clients
#   NAME.key           the CA's private key (keep it private; it is reused when the script runs again, to sign more)
#   NODE_NAME.pfx      one PKCS#12 file with its private key per node name (default one, "fusion-node")
#   fusion-client.pfx  a client certificate (or the name given with --client; --no-client makes none)
# Every leaf certificate may act as TLS server and client (nodes dial each other, and nodes dial clients back),
# and names NODE_NAME, localhost and 127.0.0.1 (add --san DNS:host or --san IP:addr for others).
# A certificate the project's CA must refuse (tests): sign it with another CA, e.g.
#   bash tools/tls/make-ca.sh --out DIR --ca other-ca --no-client rogue-node
# Every CA made here has the same subject name, so such a certificate even names the same issuer.
set -euo pipefail

out="artifacts/tls"
password="fusion-dev"
ca="ca"
client="fusion-client"
days=825
sans=()
nodes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --password) password="$2"; shift 2 ;;
    --ca) ca="$2"; shift 2 ;;
    --client) client="$2"; shift 2 ;;
    --no-client) client=""; shift ;;
    --days) days="$2"; shift 2 ;;
    --san) sans+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "make-ca.sh: unknown option $1" >&2; exit 2 ;;
    *) nodes+=("$1"); shift ;;
  esac
done
[ ${#nodes[@]} -gt 0 ] || nodes=("fusion-node")

command -v openssl >/dev/null || { apt-get update -q && apt-get install -y -q openssl; }
mkdir -p "$out"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$out/$ca.key" ] || [ ! -f "$out/$ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -sha256 -days 3650 -nodes -subj "/O=FusionActors/CN=FusionActors local CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/$ca.key" -out "$out/$ca.crt" 2>/dev/null
  chmod 644 "$out/$ca.crt"
  echo "wrote CA $out/$ca.crt (key $out/$ca.key)"
else
  echo "using CA $out/$ca.crt"
fi

# sign NAME: a key and a certificate signed by the CA, exported as NAME.pfx with the password.
sign() {
  local name="$1" san="DNS:$1,DNS:localhost,IP:127.0.0.1"
  for extra in "${sans[@]}"; do san="$san,$extra"; done
  openssl req -new -newkey rsa:2048 -sha256 -nodes -subj "/O=FusionActors/CN=$name" \
    -keyout "$work/$name.key" -out "$work/$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$san" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > "$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA "$out/$ca.crt" -CAkey "$out/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$work/$name.ext" -out "$work/$name.crt" 2>/dev/null
  openssl pkcs12 -export -out "$out/$name.pfx" -inkey "$work/$name.key" -in "$work/$name.crt" -name "$name" -passout "pass:$password"
  echo "wrote $out/$name.pfx (signed by $ca, password '$password')"
}

for node in "${nodes[@]}"; do sign "$node"; done
[ -z "$client" ] || sign "$client"
