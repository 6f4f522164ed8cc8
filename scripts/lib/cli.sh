# shellcheck shell=bash
# What the scripts of scripts/ print and how, in one place: `log` and `die`
# prefix the script's own name, SCRIPT_NAME (set by the script before it
# sources this file); `usage` prints the script's header comment, from its
# second line to `set -euo pipefail`.
# Sourced by build-image, control-plane, install-tools and test-image.

: "${SCRIPT_NAME:?set SCRIPT_NAME before sourcing lib/cli.sh}"

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}
usage() {
  # The outermost file of the call stack: the script that sourced this.
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[-1]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}
