#!/usr/bin/env bash
# Writes a self-signed certificate for localhost/127.0.0.1 (valid 2 days)
# into DIR as cert.pem and key.pem, for TLS tests against csp-exchange-sim.
# Usage: scripts/gen-test-cert.sh DIR
set -euo pipefail
dir=${1:?usage: gen-test-cert.sh DIR}
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
echo "$dir/cert.pem $dir/key.pem"
