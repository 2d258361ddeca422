#!/usr/bin/env bash
# Makes a CA of its own and an ECDSA P-256 certificate it signs for localhost and 127.0.0.1,
# valid for two days, in DIR: ca.pem, cert.pem, key.pem (the commands of the README's
# "Serving TLS"). For the benchmarks' TLS servers.
#
# Usage: scripts/tls-certs.sh DIR
set -euo pipefail
DIR=${1:?usage: scripts/tls-certs.sh DIR}
cd "$DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout key.pem -out cert.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out cert.pem 2>/dev/null
