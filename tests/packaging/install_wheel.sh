#!/usr/bin/env bash
# Packaging test (run by `scripts/test wheel` and `scripts/test`): the addon the
# way Odoo shops install addons.
#   1. builds the wheel odoo-addon-complaint_handling from odoo_addons/complaint_handling
#      (whool, as in OCA repositories) and checks its name, version and layout;
#   2. makes a fresh virtualenv next to the Odoo that scripts/lib.sh finds: it sees
#      that Odoo's source and libraries (a .pth file), not this repository;
#   3. pip-installs the wheel there (--no-deps: an Odoo run from source is not a pip
#      distribution, so the wheel's `odoo` requirement cannot be met by pip; its other
#      requirements are installed normally);
#   4. installs complaint_handling into a new database with that virtualenv's Odoo,
#      with no --addons-path at all, and checks it is installed, loaded from the wheel.
# Prints one line "wheel: ..." and exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

DB=${COMPLAINT_TEST_DB:-complaint_test}_wheel
LOG_DIR=$COMPLAINT_VAR/log/${COMPLAINT_TEST_DB:-complaint_test}
WORK=$COMPLAINT_VAR/wheel-test
mkdir -p "$LOG_DIR"

find_odoo
start_postgres
info=$(odoo_env_info) || true
ODOO_SRC=$(sed -n 's/^SRC=//p' <<<"$info")
ODOO_PY=$(sed -n 's/^PY=//p' <<<"$info")
ODOO_SITE=$(sed -n 's/^SITE=//p' <<<"$info")
[ -n "$ODOO_SRC" ] && [ -x "$ODOO_PY" ] && [ -d "$ODOO_SITE" ] \
    || die "could not ask the Odoo found (${ODOO_CMD[*]}) where it lives: got '$info'"

# 1. the wheel
rm -rf "$WORK"
mkdir -p "$WORK/dist"
log "building the addon's wheel (whool)"
"$ODOO_PY" -m pip wheel --disable-pip-version-check -q --no-deps -w "$WORK/dist" \
    "$ADDONS_DIR/complaint_handling" >"$LOG_DIR/wheel-build.log" 2>&1 \
    || { grep -v "^WARNING: Location" "$LOG_DIR/wheel-build.log" | tail -n 30 >&2; die "building the wheel failed"; }
wheels=("$WORK"/dist/*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || die "expected one wheel in $WORK/dist, found: ${wheels[*]}"
wheel=${wheels[0]}
manifest_version=$("$ODOO_PY" -c 'import ast, sys; print(ast.literal_eval(open(sys.argv[1]).read())["version"])' \
    "$ADDONS_DIR/complaint_handling/__manifest__.py")
"$ODOO_PY" - "$wheel" "$manifest_version" <<'PY' || die "the wheel is not laid out like an Odoo addon wheel"
import sys, zipfile
wheel, version = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
fields = [line.split(": ", 1) for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines() if ": " in line]
get = lambda key: [v for k, v in fields if k == key]
errors = []
if get("Name") != ["odoo-addon-complaint_handling"]:
    errors.append(f"name {get('Name')}")
if not get("Version")[0].startswith(version):
    errors.append(f"version {get('Version')} does not start with the manifest's {version}")
requires = get("Requires-Dist")
if not any(r.startswith("odoo") and "18.0" in r for r in requires) or "phonenumbers" not in requires:
    errors.append(f"requirements {requires}: expected odoo 18.0 and phonenumbers (external_dependencies)")
for path in ("__manifest__.py", "__init__.py", "i18n/zh_CN.po", "security/ir.model.access.csv",
             "views/complaint_case_views.xml", "demo/complaint_demo.xml"):
    if "odoo/addons/complaint_handling/" + path not in names:
        errors.append(f"missing odoo/addons/complaint_handling/{path}")
if any(not (n.startswith("odoo/addons/complaint_handling/") or ".dist-info/" in n) for n in names):
    errors.append("files outside odoo/addons/complaint_handling/")
if errors:
    sys.exit("wheel: " + "; ".join(errors))
PY

# 2. a fresh virtualenv next to Odoo
log "making a fresh virtualenv next to Odoo and installing $(basename "$wheel") into it"
"$ODOO_PY" -m venv "$WORK/venv" 2>/dev/null || python3 -m venv "$WORK/venv" || die "could not create $WORK/venv"
VPY=$WORK/venv/bin/python
vsite=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\nimport site; site.addsitedir(%s)\n' "$ODOO_SRC" "$("$VPY" -c 'import sys; print(repr(sys.argv[1]))' "$ODOO_SITE")" \
    >"$vsite/zz-next-to-odoo.pth"

# 3. pip install of the wheel, then its requirements other than odoo
"$VPY" -m pip install --disable-pip-version-check -q --no-deps "$wheel" >"$LOG_DIR/wheel-pip.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/wheel-pip.log" >&2; die "pip install of the wheel failed"; }
reqs=$("$VPY" -c 'import importlib.metadata as m; print("\n".join(r for r in m.requires("odoo-addon-complaint_handling") or [] if not r.startswith("odoo")))')
if [ -n "$reqs" ]; then
    # shellcheck disable=SC2086
    "$VPY" -m pip install --disable-pip-version-check -q $reqs >>"$LOG_DIR/wheel-pip.log" 2>&1 \
        || { tail -n 20 "$LOG_DIR/wheel-pip.log" >&2; die "pip install of the wheel's requirements ($reqs) failed"; }
fi
[ -f "$vsite/odoo/addons/complaint_handling/__manifest__.py" ] \
    || die "the wheel did not install into $vsite/odoo/addons/complaint_handling"

# 4. the addon into a database, found through the odoo.addons namespace only
log "installing complaint_handling from the wheel into database '$DB' (no --addons-path)"
PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$DB" >/dev/null
"$VPY" -m odoo $(odoo_db_args) -d "$DB" -i complaint_handling --without-demo=all --stop-after-init \
    --http-port="${COMPLAINT_TEST_HTTP_PORT:-18069}" --log-level=warn >"$LOG_DIR/wheel-install.log" 2>&1 \
    || { tail -n 40 "$LOG_DIR/wheel-install.log" >&2; die "odoo -i complaint_handling from the wheel failed (see $LOG_DIR/wheel-install.log)"; }
addon_installed "$DB" || die "complaint_handling is not installed in $DB after odoo -i (see $LOG_DIR/wheel-install.log)"
where=$("$VPY" -m odoo shell $(odoo_db_args) -d "$DB" --no-http --log-level=error 2>/dev/null <<'PY' | sed -n 's/^CHECK=//p'
from odoo.modules.module import get_module_path
ok = "complaint.case" in env and bool(env.ref("complaint_handling.complaint_menu_root", raise_if_not_found=False))
print("CHECK=%s|%s|%s" % (get_module_path("complaint_handling"), odoo.tools.config["addons_path"], ok))
PY
)
path=${where%%|*}
rest=${where#*|}
addons_path=${rest%|*}
case "$path" in
    "$vsite"/odoo/addons/complaint_handling) ;;
    *) die "complaint_handling was loaded from '$path', not from the wheel in $vsite" ;;
esac
case ",$addons_path," in
    *"$ADDONS_DIR"*) die "the addons path contains the repository's odoo_addons: $addons_path" ;;
esac
[ "${where##*|}" = True ] || die "complaint_handling's model complaint.case or its menu is missing in $DB"
PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$DB" >/dev/null
echo "wheel: $(basename "$wheel") installed with pip into a fresh virtualenv; odoo -i complaint_handling loaded it from $path (addons path: $addons_path) and installed it"
