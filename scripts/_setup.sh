# Shared set-up for scripts/demo and scripts/test: system packages (when asked), a venv, the package.
# Usage: . scripts/_setup.sh <pip extras> [apt packages...]
set -euo pipefail
extras="$1"; shift
need=()
for pkg in "$@"; do
  case "$pkg" in
    redis-server) command -v redis-server >/dev/null || need+=(redis-server) ;;
    chromium) command -v chromium >/dev/null || need+=(chromium) ;;
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql) ;;
    npm) command -v npm >/dev/null || need+=(nodejs npm) ;;
    *) need+=("$pkg") ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[${extras}]"
export PATH="$PWD/.venv/bin:$PATH"
# The browser tests' JavaScript (tests/integration/js: the Stellar signing library the
# test wallet loads into the page), when npm is asked for: installed from its lock file,
# again only when that changed.
case " $* " in
  *" npm "*)
    js=tests/integration/js
    if ! cmp -s "$js/package-lock.json" "$js/node_modules/.installed-lock.json"; then
      (cd "$js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      cp "$js/package-lock.json" "$js/node_modules/.installed-lock.json"
    fi
    ;;
esac
