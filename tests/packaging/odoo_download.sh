#!/usr/bin/env bash
# Set-up test (run by .ci/run, a few seconds): the pinned Odoo download is used
# only when its SHA-256 matches the recorded one. A local file:// URL stands in
# for nightly.odoo.com; the functions are those of scripts/lib.sh.
#   - no recorded checksum: stops, printing the checksum it got;
#   - a wrong recorded checksum: stops with "SHA-256 MISMATCH", keeps the file aside;
#   - the right checksum: the file is used;
#   - a tarball without Odoo 18 in it: the set-up stops saying so.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/odoo-fake/odoo"
echo "version_info = (17, 0, 0, 'final', 0, '')" >"$tmp/src/odoo-fake/odoo/release.py"
tar -czf "$tmp/odoo_fake.tar.gz" -C "$tmp/src" odoo-fake
sum=$(sha256sum "$tmp/odoo_fake.tar.gz" | cut -d' ' -f1)
export COMPLAINT_CACHE=$tmp/cache COMPLAINT_ODOO_HOME=$tmp/home
unset COMPLAINT_ODOO_SHA256
fail() { echo "odoo download: FAILED: $*" >&2; exit 1; }

attempt() {  # attempt RECORDED_SHA256: runs download_pinned_odoo in a subshell, prints its output
    ( ODOO_PIN_VERSION=fake ODOO_PIN_URL=file://$tmp/odoo_fake.tar.gz ODOO_PIN_SHA256=$1 download_pinned_odoo ) 2>&1
}

out=$(attempt "") && fail "it went on without a recorded checksum: $out"
grep -q "not recorded yet" <<<"$out" && grep -q "$sum" <<<"$out" || fail "no clear message with the checksum: $out"

wrong=$(printf '%064d' 0)
out=$(attempt "$wrong") && fail "it used a file whose checksum differs: $out"
grep -q "SHA-256 MISMATCH" <<<"$out" || fail "no SHA-256 MISMATCH message: $out"
[ -f "$COMPLAINT_CACHE/odoo_fake.tar.gz.rejected" ] && [ ! -f "$COMPLAINT_CACHE/odoo_fake.tar.gz" ] \
    || fail "the mismatching file was not set aside"

out=$(attempt "$sum") || fail "it refused the right checksum: $out"
[ "$(tail -n 1 <<<"$out")" = "$COMPLAINT_CACHE/odoo_fake.tar.gz" ] || fail "unexpected result: $out"

out=$( (setup_odoo "$tmp/odoo_fake.tar.gz") 2>&1) && fail "it set up an Odoo 17 source as Odoo 18: $out"
grep -q "is not Odoo 18" <<<"$out" || fail "no clear message for a source that is not Odoo 18: $out"
echo "odoo download: 4 checks passed (no checksum recorded, wrong checksum, right checksum, not Odoo 18)"
