# Sourced by scripts/test-services.sh (so by `make test`): installs axe-core from the npm
# registry into tests/a11y/node_modules (the version package-lock.json pins), for the
# accessibility test in tests/service/test_browser.py. Needs Node and npm.
_a11y="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)/tests/a11y"
if [ ! -f "$_a11y/node_modules/axe-core/axe.min.js" ]; then
  echo "installing axe-core from the npm registry into tests/a11y" >&2
  npm ci --prefix "$_a11y" --no-audit --no-fund --ignore-scripts --silent
fi
