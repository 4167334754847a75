# Shared by script/start and script/test: Debian packages and the virtualenv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Install Debian packages that are missing (as root, or through sudo).
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local root=()
  [ "$(id -u)" -eq 0 ] || root=(sudo)
  "${root[@]}" apt-get update -qq
  "${root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# A virtualenv in .venv with Tessera installed (editable) plus the given extras.
venv_install() {
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$1"
  # The translations' .mo files are built here, never committed.
  .venv/bin/python -c 'from webapp.i18n import compile_catalogs; compile_catalogs()'
}
