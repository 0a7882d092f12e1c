#!/usr/bin/env bash
# `tox -e browser` runs this first: Debian's chromium package, installed with apt-get when
# /usr/bin/chromium is missing (as root, or with passwordless sudo). Playwright's own browser
# download needs a network this project does not have, so there is no fallback: when the
# package cannot be installed this fails, saying why, and the browser test does not run.
set -euo pipefail
readonly CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
fail() {
    echo "install-chromium: $CHROMIUM is missing and $1; install Debian's chromium package" \
        "(apt-get install -y chromium) and run tox -e browser again" >&2
    exit 1
}
command -v apt-get >/dev/null || fail "there is no apt-get on this machine"
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "this user is not root and has no passwordless sudo"
fi
echo "install-chromium: apt-get install chromium" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q || fail "apt-get update failed"
"${as_root[@]}" apt-get install -y -q chromium || fail "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || fail "the chromium package did not provide it"
