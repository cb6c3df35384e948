#!/usr/bin/env bash
# Makes a cluster certificate authority and one certificate per node for RecCluster's mutual TLS.
#
#   deploy/make-certs.sh OUT_DIR [NODE_NAME...]      (default names: coordinator worker)
#
# Writes into OUT_DIR (created, mode 700):
#   ca.crt            the cluster CA's certificate: give it to every node (--tls-ca / RECCLUSTER_TLS_CA)
#   ca.key            the CA's private key: keep it off the nodes; it signs new node certificates
#   NAME.pfx          the node's certificate and key, PKCS#12 (--tls-cert / RECCLUSTER_TLS_CERT)
#   NAME.password     the PKCS#12 password (--tls-password-file / RECCLUSTER_TLS_PASSWORD_FILE)
# Re-running with an existing ca.key adds or renews node certificates under the same CA.
# Only openssl is needed. The tests run this script to make throwaway certificates.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUT_DIR [NODE_NAME...]" >&2
  exit 2
fi
out=$1
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(coordinator worker)
for name in "${names[@]}"; do
  if ! [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]]; then
    echo "error: node name '$name': letters, digits, '.' and '-' only" >&2
    exit 2
  fi
done
command -v openssl >/dev/null || { echo "error: openssl is required" >&2; exit 1; }
days=${RECCLUSTER_CERT_DAYS:-825}

mkdir -p "$out"
chmod 700 "$out"
umask 077

if [ ! -f "$out/ca.key" ]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days "$days" \
    -subj "/O=RecCluster/CN=RecCluster cluster CA $(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

for name in "${names[@]}"; do
  ext=$(mktemp)
  # Both usages: every node is a TLS server (it accepts connections) and a client (it opens them).
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/O=RecCluster/CN=$name" \
    -keyout "$out/$name.key" -out "$out/$name.csr" 2>/dev/null
  openssl x509 -req -sha256 -days "$days" -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -extfile "$ext" -out "$out/$name.crt" 2>/dev/null
  openssl rand -hex 24 > "$out/$name.password"
  openssl pkcs12 -export -in "$out/$name.crt" -inkey "$out/$name.key" -certfile "$out/ca.crt" -name "$name" \
    -passout "file:$out/$name.password" -out "$out/$name.pfx"
  rm -f "$out/$name.csr" "$out/$name.key" "$ext"
  echo "$out/$name.pfx (password in $out/$name.password)"
done
echo "$out/ca.crt: the CA every node trusts (--tls-ca); keep $out/ca.key off the nodes"
