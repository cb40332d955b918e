#!/usr/bin/env bash
# Prepare the development environment. Safe to run again: it only does work
# that is missing or out of date.
#
#   bash scripts/setup.sh        set up, then exit
#   source "$here/setup.sh"      from scripts/test.sh and scripts/main.sh: set up,
#                                then continue with the environment activated
#                                (it sets -euo pipefail and exits on failure,
#                                so it is not meant for an interactive shell)
#
# What it does:
#   1. checks that Node.js >= 20 is installed (the AWS CDK runs on node);
#   2. creates .venv with Python >= 3.11 if it is missing;
#   3. runs `pip install -e ".[dev]"` only when pyproject.toml changed since
#      the last successful install (stamp file inside .venv);
#   4. exports VIRTUAL_ENV, PATH and JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION.
#
# Environment: PYTHON=/path/to/python3.x chooses the interpreter for a new .venv.

set -euo pipefail

STC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STC_ROOT

_stc_die() {
  echo "setup: error: $*" >&2
  exit 1
}

# ------------------------------------------------------------------ node
if ! command -v node >/dev/null 2>&1; then
  _stc_die "Node.js is not installed (or not on PATH). The AWS CDK for Python runs on node; install Node.js 20 or later (for example 'apt-get install nodejs') and run this again."
fi
_stc_node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "${_stc_node_major}" -lt 20 ]; then
  _stc_die "Node.js $(node --version) is too old; the AWS CDK needs Node.js 20 or later."
fi
# jsii prints a large end-of-life banner on every run under Node 20.
if [ "${_stc_node_major}" -eq 20 ]; then
  export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
fi

# ---------------------------------------------------------------- python
_stc_python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

_stc_venv="${STC_ROOT}/.venv"
if [ ! -x "${_stc_venv}/bin/python" ] || ! _stc_python_ok "${_stc_venv}/bin/python"; then
  _stc_python=""
  for candidate in ${PYTHON:-} python3.14 python3.13 python3.12 python3.11 python3; do
    if command -v "${candidate}" >/dev/null 2>&1 && _stc_python_ok "${candidate}"; then
      _stc_python="${candidate}"
      break
    fi
  done
  [ -n "${_stc_python}" ] || _stc_die "Python 3.11 or later is required (tried: ${PYTHON:-} python3.14 ... python3). Install it or set PYTHON=/path/to/python3.x."
  echo "setup: creating .venv with $("${_stc_python}" --version)" >&2
  rm -rf "${_stc_venv}"
  "${_stc_python}" -m venv "${_stc_venv}" || _stc_die "could not create .venv (on Debian: apt-get install python3-venv)"
fi

# --------------------------------------------------------- dependencies
# Reads pip's output on stdin; writes progress lines on stdout.
_stc_pip_progress() {
  local tty=0
  [ -t 2 ] && tty=1
  awk -v tty="${tty}" '
    function flush_line() { if (tty && open) { printf "\n"; open = 0 } }
    function packages(n) { return n == 1 ? "1 package" : n " packages" }
    /^(Collecting|Processing) / {
      collected++
      name = $2
      if ($1 == "Processing") { sub(/.*\//, "", name); sub(/-[0-9].*/, "", name) }
      if (tty) { printf "\rsetup:   collecting packages: %d (%s)\033[K", collected, name; open = 1 }
      else if (collected % 20 == 1) { print "setup:   collecting packages: " collected " (" name ")" }
      fflush(); next
    }
    /^Installing collected packages:/ {
      flush_line()
      print "setup:   installing " packages(split(substr($0, 31), names, ",")) " (collected " collected + 0 ")"
      fflush(); next
    }
    /^Successfully installed / { flush_line(); print "setup:   installed " packages(NF - 2); fflush(); next }
    /Location .* is ignored/ { next }
    /^ *(Requirement already satisfied|Downloading|Using cached|Obtaining|Preparing|Getting requirements|Installing (build|backend) dependencies|Checking if build backend|Building wheels? |Building editable|Created wheel|Stored in directory|Attempting uninstall|Found existing installation|Uninstalling|Successfully uninstalled|Successfully built|Looking in indexes|Looking in links)/ { next }
    /^ *$/ { next }
    { flush_line(); print; fflush() }
    END { flush_line() }
  '
}

_stc_stamp="${_stc_venv}/.scheduled-tasks-constructs-install"
_stc_want="$(cd "${STC_ROOT}" && "${_stc_venv}/bin/python" -c \
  'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest(), sys.version.split()[0])')"
if [ ! -f "${_stc_stamp}" ] || [ "$(cat "${_stc_stamp}")" != "${_stc_want}" ]; then
  echo "setup: installing the project and its dev dependencies into .venv (pyproject.toml changed or first run; about a minute)" >&2
  # pip's own lines become a few of ours: a count of the packages collected (one
  # line that updates itself on a terminal, a line every 20 packages otherwise),
  # then the install and its result. What pip says besides its routine lines
  # (errors, warnings) is passed through, and a failure still ends the script.
  (
    cd "${STC_ROOT}"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off PYTHONUNBUFFERED=1
    "${_stc_venv}/bin/python" -m pip install -e ".[dev]" 2>&1 | _stc_pip_progress >&2
  ) || _stc_die "pip install -e \".[dev]\" failed (see the messages above)"
  echo "${_stc_want}" >"${_stc_stamp}"
fi

# ------------------------------------------------------------ activate
export VIRTUAL_ENV="${_stc_venv}"
case ":${PATH}:" in
  *":${_stc_venv}/bin:"*) ;;
  *) export PATH="${_stc_venv}/bin:${PATH}" ;;
esac
unset PYTHONHOME
