#!/usr/bin/env bash
# Create the compose stack's secrets in deploy/secrets/, one file each, readable only by the uid that uses it.
#
#   sudo deploy/make-secrets.sh          creates what is missing; never overwrites an existing secret
#
# Compose hands file secrets to containers as bind mounts with the host's owner and mode, so each file is
# owned by the uid that reads it: 10000 (the platform's image) or 999 (PostgreSQL's image).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${SECRETS_DIR:-$here/secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"

random() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

make() {  # make NAME OWNER VALUE
    local file="$dir/$1"
    if [ -e "$file" ]; then
        echo "make-secrets: $1 exists, kept."
    else
        (umask 077; printf '%s\n' "$3" > "$file")
        echo "make-secrets: $1 created."
    fi
    chown "$2:$2" "$file" 2>/dev/null || echo "make-secrets: could not chown $1 to $2 (run as root)." >&2
    chmod 0400 "$file"
}

make secret_key 10000 "$(random)"
make hidden_set_secret 10000 "$(random)"
make postgres_password 999 "$(random)"
make database_url 10000 "postgres://hackathon:$(cat "$dir/postgres_password")@postgres:5432/hackathon"
make flower_basic_auth 10000 "admin:$(random)"
