#!/usr/bin/env bash
# Installs the OpenID Connect provider the staff sign-in tests start (tests/oidc: oidc-provider
# from the npm registry, run with Node), exactly as package-lock.json pins it. Quiet and quick
# when already installed for this lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/oidc"
command -v node >/dev/null || { echo "oidc-provider.sh: Node.js is needed for the staff sign-in tests" >&2; exit 1; }
stamp="node_modules/.lock-$(cksum package-lock.json | cut -d' ' -f1)"
if [[ ! -e "$stamp" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
