# Sourced by `make test`: makes sure PostgreSQL and Chromium are installed and
# running (Debian packages; needs root or passwordless sudo on a fresh machine),
# then exports CONSENTRY_TEST_PG_URL for the store tests.
set -e
_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
_need=""
command -v chromium >/dev/null 2>&1 || _need="$_need chromium"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || _need="$_need postgresql"
if [ -n "$_need" ]; then
  echo "installing from Debian's packages:$_need" >&2
  _root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive _root apt-get install -y -qq $_need >/dev/null
fi
. "$(dirname "${BASH_SOURCE[0]:-$0}")/axe-setup.sh"
CONSENTRY_TEST_PG_URL="$(bash "$(dirname "${BASH_SOURCE[0]:-$0}")/pg-setup.sh" | tail -n 1)"
export CONSENTRY_TEST_PG_URL
export CONSENTRY_REQUIRE_PG=1
echo "PostgreSQL for tests: ${CONSENTRY_TEST_PG_URL%%@*}@…" >&2
set +e
