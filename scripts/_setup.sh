# Shared set-up for scripts/run and scripts/test: a .venv with the project installed.
# Sourced, not run. Usage: ensure_venv "EXTRAS" (e.g. "test" or "serve").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

need_apt() {
    # Install Debian packages that are missing, when we can (root and apt-get present).
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
        return 1
    fi
    echo "installing system packages: ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_venv() {
    local extras="$1"
    if ! command -v python3 >/dev/null; then
        need_apt python3 python3-venv python3-pip
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" 2>/dev/null || { need_apt python3-venv && python3 -m venv "$VENV"; }
    fi
    # Reinstall only when pyproject.toml changed since the last install.
    local stamp="$VENV/.installed-$extras"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "installing the project into .venv ($extras)" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip >&2
        "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]" >&2
        touch "$stamp"
    fi
}
