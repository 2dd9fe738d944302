#!/usr/bin/env bash
# Generates a development PKI with openssl into certs/ (or the directory given as $1):
#   ca.crt/ca.key               development CA that signs the server and the client certificates
#   server.crt/server.key       for localhost and 127.0.0.1 (TLS_CERT_FILE / TLS_KEY_FILE)
#   device-1, dashboard         client certificates (CN = identity), signed by the CA
#   expired                     a client certificate of the CA whose validity ended in 2020
#   rogue                       a client certificate signed by another, unknown CA
# For development and tests only. Private keys stay out of git (certs/ is ignored).
set -euo pipefail
out="${1:-$(dirname "$0")/../certs}"
mkdir -p "$out"
cd "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 825 -subj "$2" -out "$1.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# Signs $1.csr with CA $2 using `openssl ca`, which (unlike `x509 -req`) accepts explicit dates.
sign() { # name ca start end extensions
  local db="$work/$2"
  mkdir -p "$db"
  [ -f "$db/index.txt" ] || { : > "$db/index.txt"; openssl rand -hex 16 > "$db/serial"; }
  cat > "$work/ext.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $work
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
$5
CNF
  openssl ca -batch -notext -config "$work/ext.cnf" -cert "$2.crt" -keyfile "$2.key" -in "$work/$1.csr" \
    -out "$1.crt" -startdate "$3" -enddate "$4" -extensions ext 2>/dev/null
}

leaf() { # name cn ca start end extensions
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$work/$1.csr"
  sign "$1" "$3" "$4" "$5" "$6"
}

now="$(date -u +%y%m%d%H%M%SZ)"
later="$(date -u -d '+825 days' +%y%m%d%H%M%SZ)"
client_ext=$'keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth'

ca ca "/CN=kafka-rest development CA"
leaf server localhost ca "$now" "$later" $'keyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1'
leaf device-1 device-1 ca "$now" "$later" "$client_ext"$'\nsubjectAltName = URI:urn:device:device-1'
leaf dashboard dashboard ca "$now" "$later" "$client_ext"
leaf expired device-expired ca 190101000000Z 200101000000Z "$client_ext"
ca rogue-ca "/CN=unknown CA"
leaf rogue device-1 rogue-ca "$now" "$later" "$client_ext"
echo "development certificates written to $(pwd)"
