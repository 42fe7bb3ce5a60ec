#!/bin/sh
# One-shot: a CA and a broker certificate for "kafka" (and localhost), in PEM, into
# CERT_DIR (default /certs). Runs in alpine (installing openssl) or anywhere openssl is; does
# nothing when the certificates already exist. The tests use it too.
set -eu
cd "${CERT_DIR:-/certs}"
if [ -s broker.pem ] && [ -s ca.pem ]; then echo "certificates already there"; exit 0; fi
command -v openssl >/dev/null || apk add --no-cache openssl >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=port-kafka-harness CA" \
    -keyout ca.key -out ca.pem
openssl req -newkey rsa:2048 -nodes -subj "/CN=kafka" -keyout broker.key -out broker.csr
printf 'subjectAltName=DNS:kafka,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > broker.ext
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile broker.ext -out broker.crt
# Kafka's PEM keystore: the private key (PKCS#8, unencrypted) followed by the certificate chain.
openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
cat broker.pk8 broker.crt ca.pem > broker.pem
chmod 0644 ca.pem broker.pem
echo "certificates written to $(pwd)"
