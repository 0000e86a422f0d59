# Shared helpers for scripts/start and scripts/test. Source it; do not run it.
# Everything it creates lives under $COMPLAINT_VAR (default: .var/ in the repo),
# except the downloaded Odoo tarball, kept in ~/.cache/complaint-handling/ for every clone.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPLAINT_VAR=${COMPLAINT_VAR:-$REPO_ROOT/.var}
COMPLAINT_PG_PORT=${COMPLAINT_PG_PORT:-55432}
COMPLAINT_PG_USER=${COMPLAINT_PG_USER:-odoo}
ADDONS_DIR=$REPO_ROOT/odoo_addons
mkdir -p "$COMPLAINT_VAR"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Odoo 18 ---------------------------------------------------------------
# The Odoo 18.0 Community source the scripts download when no Odoo is given:
# an official nightly source tarball, pinned by date and checked by SHA-256.
ODOO_PIN_VERSION=18.0.20250925
ODOO_PIN_URL=https://nightly.odoo.com/18.0/nightly/src/odoo_${ODOO_PIN_VERSION}.tar.gz
# The SHA-256 of that tarball is not recorded yet: the machine this pin was
# written on could not reach nightly.odoo.com, and a made-up checksum would be
# worse than none. Until it is recorded here, a download stops after printing
# the checksum it got (see README, "Getting Odoo 18"); COMPLAINT_ODOO_SHA256
# supplies a checksum you verified yourself.
ODOO_PIN_SHA256=
# Python packages the set-up adds to Odoo's requirements.txt: the addon needs
# phonenumbers, Odoo's browser tests need websocket-client.
ODOO_EXTRA_REQUIREMENTS="phonenumbers websocket-client"
# Python packages the addon's TESTS need in Odoo's environment, as module:requirement
# (test dependencies, not the addon's): the official Standard Webhooks library checks
# the events the addon signs. Installed by scripts/test (ensure_odoo_test_requirements);
# scripts/start installs them too, for the helpdesk glue's demo.
# Each entry is MODULE:REQUIREMENT[:no-deps]; MODULE is looked up (not imported) in
# Odoo's Python. OCA helpdesk_mgmt is the glue addon's (complaint_handling_helpdesk_mgmt)
# test dependency only; its wheel requires odoo==18.0.*, which would pull a second Odoo
# from PyPI, so it is installed without dependencies (it needs only Odoo's mail and portal).
ODOO_TEST_REQUIREMENTS="standardwebhooks:standardwebhooks>=1.3
odoo.addons.helpdesk_mgmt:odoo-addon-helpdesk_mgmt>=18.0.1.19,<18.1:no-deps"
# Where set-up Odoos live: one folder per source (source, virtualenv, launcher).
ODOO_HOME=${COMPLAINT_ODOO_HOME:-$COMPLAINT_VAR/odoo}

# find_odoo: sets ODOO_CMD (an array) to an Odoo 18 launcher, from the first of
#   ODOO_BIN            a launcher you name (as before),
#   ODOO_SOURCE         an Odoo 18 source folder or tarball: set up under $ODOO_HOME,
#   `odoo`/`odoo-bin`   on PATH (as before),
#   nothing             the pinned nightly, downloaded, verified and set up under $ODOO_HOME.
# ODOO_ORIGIN says which; ODOO_SETUP_HOME is the set-up folder (empty for a launcher of yours).
find_odoo() {
    ODOO_SETUP_HOME=
    if [ -n "${ODOO_BIN:-}" ]; then
        [ -x "$ODOO_BIN" ] || die "ODOO_BIN=$ODOO_BIN is not an executable Odoo 18 launcher"
        ODOO_CMD=("$ODOO_BIN"); ODOO_ORIGIN="ODOO_BIN"
    elif [ -n "${ODOO_SOURCE:-}" ]; then
        setup_odoo "$ODOO_SOURCE"
    elif command -v odoo >/dev/null 2>&1; then
        ODOO_CMD=(odoo); ODOO_ORIGIN="odoo on PATH ($(command -v odoo))"
    elif command -v odoo-bin >/dev/null 2>&1; then
        ODOO_CMD=(odoo-bin); ODOO_ORIGIN="odoo-bin on PATH ($(command -v odoo-bin))"
    else
        setup_odoo ""
    fi
    local version
    version=$("${ODOO_CMD[@]}" --version 2>/dev/null | tail -n 1)
    case "$version" in
        *" 18."*|*" 18.0"*|*"saas~18"*) ;;
        *) die "the Odoo found (${ODOO_CMD[*]}, from $ODOO_ORIGIN) is not Odoo 18: it says '$version'" ;;
    esac
    log "Odoo: ${ODOO_CMD[*]} ($version; from $ODOO_ORIGIN)"
}

# install_system_packages WHAT PACKAGE...: as root on Debian/Ubuntu, installs the
# packages with apt-get; otherwise stops with a message naming them.
install_system_packages() {
    local what=$1
    shift
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $what: apt-get install $*"
        mkdir -p "$COMPLAINT_VAR/log"
        if [ -z "${_APT_UPDATED:-}" ]; then
            apt-get update -qq >"$COMPLAINT_VAR/log/apt.log" 2>&1 || true
            _APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
            >>"$COMPLAINT_VAR/log/apt.log" 2>&1 \
            || { tail -n 20 "$COMPLAINT_VAR/log/apt.log" >&2; die "apt-get install $* failed (see $COMPLAINT_VAR/log/apt.log)"; }
    else
        die "$what is missing: install it (Debian/Ubuntu: sudo apt-get install $*; other systems: the same packages from your package manager)"
    fi
}

# ensure_wkhtmltopdf: Odoo prints PDF reports with wkhtmltopdf; it runs without
# it (reports then come as HTML), so only a warning when it cannot be installed.
ensure_wkhtmltopdf() {
    command -v wkhtmltopdf >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        install_system_packages "wkhtmltopdf (PDF reports)" wkhtmltopdf
    else
        log "warning: wkhtmltopdf is missing, so Odoo prints reports as HTML, not PDF (Debian/Ubuntu: sudo apt-get install wkhtmltopdf)"
    fi
}

# _sha256 FILE: prints the SHA-256 of FILE.
_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# download_pinned_odoo: prints the path of the pinned nightly tarball, downloaded
# once into the user's cache (shared by clones) and checked against its SHA-256.
download_pinned_odoo() {
    local cache=${COMPLAINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/complaint-handling}
    local file=$cache/odoo_$ODOO_PIN_VERSION.tar.gz want=${COMPLAINT_ODOO_SHA256:-$ODOO_PIN_SHA256} got
    mkdir -p "$cache"
    if [ ! -s "$file" ]; then
        command -v curl >/dev/null 2>&1 || install_system_packages "curl (to download Odoo)" curl ca-certificates
        log "downloading Odoo $ODOO_PIN_VERSION Community source (a few hundred MB) from $ODOO_PIN_URL"
        curl -fL --retry 3 --progress-bar -o "$file.part" "$ODOO_PIN_URL" \
            || die "could not download $ODOO_PIN_URL; give a local Odoo 18 instead: ODOO_SOURCE=<source folder or tarball>, or ODOO_BIN=<launcher>"
        mv "$file.part" "$file"
    fi
    log "checking the SHA-256 of $file"
    got=$(_sha256 "$file")
    if [ -z "$want" ]; then
        die "the SHA-256 of the pinned Odoo is not recorded yet (ODOO_PIN_SHA256 in scripts/lib.sh is empty).
  The download $file has SHA-256 $got.
  Verify it (e.g. against a second download elsewhere), then record it in scripts/lib.sh or run again with
  COMPLAINT_ODOO_SHA256=$got"
    fi
    if [ "$got" != "$want" ]; then
        mv -f "$file" "$file.rejected"
        die "SHA-256 MISMATCH for $ODOO_PIN_URL: expected $want, got $got. The file is kept as $file.rejected and NOT used."
    fi
    echo "$file"
}

# _archive_key ARCHIVE: a key naming ARCHIVE's set-up folder: its SHA-256, remembered
# by path, size and modification time so that a second run does not hash it again.
_archive_key() {
    local archive=$1 sig memo
    sig=$(printf '%s %s' "$archive" "$(stat -c '%s %Y' "$archive")" | sha256sum | cut -c1-16)
    memo=$ODOO_HOME/.archive-keys/$sig
    if [ ! -s "$memo" ]; then
        log "computing the SHA-256 of $archive"
        mkdir -p "$ODOO_HOME/.archive-keys"
        _sha256 "$archive" >"$memo.tmp" && mv "$memo.tmp" "$memo"
    fi
    echo "tar-$(cut -c1-16 "$memo")"
}

# setup_odoo SOURCE: sets up Odoo 18 from SOURCE (a source folder or a tarball;
# empty: the pinned nightly) under $ODOO_HOME/<key>/ and sets ODOO_CMD to its
# launcher. Every step is skipped when its result is already there.
setup_odoo() {
    local source=$1 key archive= src_root= home
    if [ -z "$source" ]; then
        key=nightly-$ODOO_PIN_VERSION
        ODOO_ORIGIN="the pinned Odoo $ODOO_PIN_VERSION nightly, set up in $ODOO_HOME/$key"
        [ -s "$ODOO_HOME/$key/src.ready" ] || { archive=$(download_pinned_odoo) || exit 1; }
    elif [ -d "$source" ]; then
        src_root=$(cd "$source" && pwd)
        [ -f "$src_root/odoo/release.py" ] || die "ODOO_SOURCE=$source is not an Odoo source folder (it has no odoo/release.py)"
        key=dir-$(printf '%s' "$src_root" | sha256sum | cut -c1-16)
        ODOO_ORIGIN="ODOO_SOURCE folder $src_root, set up in $ODOO_HOME/$key"
    elif [ -f "$source" ]; then
        archive=$(cd "$(dirname "$source")" && pwd)/$(basename "$source")
        key=$(_archive_key "$archive")
        ODOO_ORIGIN="ODOO_SOURCE tarball $archive, set up in $ODOO_HOME/$key"
    else
        die "ODOO_SOURCE=$source is neither an Odoo source folder nor a tarball"
    fi
    home=$ODOO_HOME/$key
    ODOO_SETUP_HOME=$home
    mkdir -p "$home"

    # 1. the source, unpacked once
    if [ -z "$src_root" ]; then
        if [ ! -s "$home/src.ready" ]; then
            log "unpacking $(basename "$archive") into $home/src (dots show progress)"
            rm -rf "$home/src" "$home/src.tmp"
            mkdir -p "$home/src.tmp"
            local progress=()
            tar --version 2>/dev/null | grep -q GNU && progress=(--checkpoint=5000 --checkpoint-action=dot)
            tar -xf "$archive" -C "$home/src.tmp" "${progress[@]}" || die "could not unpack $archive"
            [ ${#progress[@]} -eq 0 ] || echo >&2
            local release
            release=$(cd "$home/src.tmp" && find . -maxdepth 3 -path '*/odoo/release.py' | sort | head -n 1)
            [ -n "$release" ] || die "$archive holds no Odoo source (no odoo/release.py in it)"
            mv "$home/src.tmp" "$home/src"
            dirname "$(dirname "${release#./}")" >"$home/src.ready"
        fi
        src_root=$home/src/$(cat "$home/src.ready")
        src_root=${src_root%/.}
    fi
    grep -Eq '^version_info = \(18, ' "$src_root/odoo/release.py" \
        || die "the Odoo source in $src_root is not Odoo 18 (odoo/release.py: $(grep -m1 '^version_info' "$src_root/odoo/release.py"))"
    [ -f "$src_root/requirements.txt" ] || die "the Odoo source in $src_root has no requirements.txt"

    # 2. its own virtualenv with Odoo's requirements, remade when they change
    local py=${COMPLAINT_PYTHON:-python3} venv=$home/venv stamp
    command -v "$py" >/dev/null 2>&1 || install_system_packages "Python 3" python3 python3-venv
    "$py" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 14))' \
        || die "Odoo 18 needs Python 3.10 to 3.13; $py is $("$py" -V 2>&1). Set COMPLAINT_PYTHON to another python."
    stamp=$({ cat "$src_root/requirements.txt"; echo "$ODOO_EXTRA_REQUIREMENTS"; "$py" -VV; } | sha256sum | cut -c1-16)
    if [ "$(cat "$venv/.ready" 2>/dev/null)" != "$stamp" ]; then
        "$py" -c 'import ensurepip, venv' 2>/dev/null || install_system_packages "Python's venv module" python3-venv
        log "creating Odoo's virtualenv $venv and installing Odoo's requirements.txt, $ODOO_EXTRA_REQUIREMENTS (a few minutes the first time)"
        rm -rf "$venv"
        "$py" -m venv "$venv" || die "$py -m venv $venv failed"
        # python-ldap (LDAP login, not used here) needs C headers: left out.
        # psycopg2 is taken as its binary wheel of the same version (no compiler,
        # no libpq-dev). Old setuptools lets the pinned sdists build on current Python.
        grep -Eiv '^[[:space:]]*python-ldap' "$src_root/requirements.txt" \
            | sed -E 's/^([[:space:]]*)psycopg2([[:space:]]*[=<>~!])/\1psycopg2-binary\2/' >"$home/requirements.txt"
        echo 'setuptools<70' >"$home/constraints.txt"
        local rc
        set +e
        PIP_CONSTRAINT=$home/constraints.txt "$venv/bin/pip" install --disable-pip-version-check \
            -r "$home/requirements.txt" $ODOO_EXTRA_REQUIREMENTS 2>&1 \
            | tee "$home/pip.log" | grep --line-buffered -E '^(Collecting|Building wheel|Installing collected|Successfully installed|ERROR|error)' \
            | sed -u -E 's/ \(from .*\)$//; s/^/  pip: /' >&2
        rc=${PIPESTATUS[0]}
        set -e
        [ "$rc" -eq 0 ] || { tail -n 30 "$home/pip.log" >&2; die "installing Odoo's requirements failed (see $home/pip.log)"; }
        echo "$stamp" >"$venv/.ready"
    fi
    # Odoo runs from its source: the virtualenv's python finds it through a .pth file.
    local site
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    [ "$(cat "$site/odoo-source.pth" 2>/dev/null)" = "$src_root" ] || echo "$src_root" >"$site/odoo-source.pth"

    # 3. a launcher
    mkdir -p "$home/bin"
    printf '#!/bin/sh\n# Odoo 18 set up by scripts/lib.sh from %s\nexec "%s" -m odoo "$@"\n' \
        "$src_root" "$venv/bin/python" >"$home/bin/odoo.tmp"
    chmod +x "$home/bin/odoo.tmp"
    mv "$home/bin/odoo.tmp" "$home/bin/odoo"
    ODOO_CMD=("$home/bin/odoo")
}

# odoo_env_info: prints, from inside the found Odoo's Python, SRC=<the folder
# holding the odoo package>, PY=<its python> and SITE=<its site-packages>.
odoo_env_info() {
    "${ODOO_CMD[@]}" shell --no-http --log-level=critical 2>/dev/null <<'PY' | grep -E '^(SRC|PY|SITE)='
import os, sys, sysconfig
import odoo
print("SRC=" + os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))
print("PY=" + sys.executable)
print("SITE=" + sysconfig.get_paths()["purelib"])
PY
}

# ensure_odoo_test_requirements: installs into the found Odoo's Python the
# ODOO_TEST_REQUIREMENTS it cannot import yet.
ensure_odoo_test_requirements() {
    local py entry module req flags missing=() missing_nodeps=()
    py=$(odoo_env_info | sed -n 's/^PY=//p')
    [ -n "$py" ] || die "could not find the Python of the Odoo found (${ODOO_CMD[*]})"
    while IFS=: read -r module req flags; do
        [ -n "$module" ] || continue
        "$py" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)" 2>/dev/null && continue
        if [ "$flags" = no-deps ]; then missing_nodeps+=("$req"); else missing+=("$req"); fi
    done <<<"$ODOO_TEST_REQUIREMENTS"
    [ $((${#missing[@]} + ${#missing_nodeps[@]})) -eq 0 ] && return 0
    log "installing the addons' test requirements into Odoo's Python ($py): ${missing[*]} ${missing_nodeps[*]}"
    if [ ${#missing[@]} -gt 0 ]; then
        "$py" -m pip install -q --disable-pip-version-check "${missing[@]}" >&2 \
            || die "could not install ${missing[*]} into Odoo's Python ($py); the addon's tests need them"
    fi
    if [ ${#missing_nodeps[@]} -gt 0 ]; then
        "$py" -m pip install -q --disable-pip-version-check --no-deps "${missing_nodeps[@]}" >&2 \
            || die "could not install ${missing_nodeps[*]} into Odoo's Python ($py); the addons' tests need them"
    fi
}

# ODOO_DATA_DIR (scripts/test sets it to .var/odoo-data): Odoo's data folder (filestore,
# sessions). Odoo's default, ~/.local/share/Odoo, is shared by every checkout of the
# machine, so two clusters with a database of the same name would remove each other's files.
odoo_db_args() {
    echo --db_host=127.0.0.1 --db_port="$COMPLAINT_PG_PORT" --db_user="$COMPLAINT_PG_USER" --db_password=odoo \
        ${ODOO_DATA_DIR:+--data-dir="$ODOO_DATA_DIR"}
}

# odoo_args: database options and the addons path (Odoo adds its own addons to it).
# ODOO_ADDONS_PATH adds more folders; ODOO_RC names an Odoo configuration file.
set_odoo_args() {
    odoo_args=($(odoo_db_args) --addons-path="$ADDONS_DIR${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}")
    if [ -n "${ODOO_RC:-}" ]; then odoo_args+=(--config="$ODOO_RC"); fi
}

# addon_installed DB [MODULE]: true when MODULE (complaint_handling) is installed in DB.
addon_installed() {
    psql -d "$1" -tAc "SELECT 1 FROM ir_module_module WHERE name='${2:-complaint_handling}' AND state='installed'" \
        2>/dev/null | grep -q 1
}

# install_addon DB LOG [ODOO OPTIONS...]: creates DB with complaint_handling (and demo data).
install_addon() {
    local db=$1 logfile=$2
    shift 2
    "${ODOO_CMD[@]}" "${odoo_args[@]}" -d "$db" -i complaint_handling --stop-after-init \
        --log-level=warn "$@" >"$logfile" 2>&1 || { tail -n 40 "$logfile" >&2; die "installing complaint_handling into $db failed (see $logfile)"; }
}

# intake_api_key DB LABEL: prints a new API key of the intake bot user of DB.
intake_api_key() {
    local key
    key=$("${ODOO_CMD[@]}" shell "${odoo_args[@]}" -d "$1" --no-http --log-level=error 2>/dev/null <<PY | sed -n 's/^APIKEY=//p'
bot = env.ref("complaint_handling.user_complaint_intake_bot")
key = env["res.users.apikeys"].with_user(bot).sudo()._generate(None, "$2", None)
env.cr.commit()
print("APIKEY=" + key)
PY
)
    [ -n "$key" ] || die "could not create an API key for the intake bot in database $1"
    echo "$key"
}

# start_odoo_server DB PORT LOG: serves DB on 127.0.0.1:PORT in the background
# (ODOO_SERVER_PID), waiting until it answers. stop_odoo_server stops it.
ODOO_SERVER_PID=
start_odoo_server() {
    local db=$1 port=$2 logfile=$3 i
    "${ODOO_CMD[@]}" "${odoo_args[@]}" -d "$db" --db-filter="^$db\$" --http-interface=127.0.0.1 \
        --http-port="$port" ${ODOO_SERVER_OPTIONS:---workers=0 --max-cron-threads=0} --log-level=warn >"$logfile" 2>&1 &
    ODOO_SERVER_PID=$!
    for i in $(seq 1 180); do
        curl -sf "http://127.0.0.1:$port/web/health" >/dev/null 2>&1 && return 0
        kill -0 "$ODOO_SERVER_PID" 2>/dev/null || { tail -n 40 "$logfile" >&2; die "Odoo did not start (see $logfile)"; }
        sleep 1
    done
    die "Odoo did not answer on port $port within 180 s (see $logfile)"
}
stop_odoo_server() {
    if [ -n "$ODOO_SERVER_PID" ]; then
        kill "$ODOO_SERVER_PID" 2>/dev/null && wait "$ODOO_SERVER_PID" 2>/dev/null
        ODOO_SERVER_PID=
    fi
    return 0
}

_pg_bin() {
    local tool=$1
    # the real file: as root the tool runs as 'postgres', which may not reach a symlink's folder
    if command -v "$tool" >/dev/null 2>&1; then readlink -f "$(command -v "$tool")"; return; fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/"$tool"; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
    if [ -z "${_PG_INSTALLED:-}" ]; then
        install_system_packages "PostgreSQL (15 or newer; the scripts run their own cluster)" postgresql postgresql-client
        _PG_INSTALLED=1 _pg_bin "$tool"
        return
    fi
    die "PostgreSQL's $tool not found after installing PostgreSQL"
}

# As root, PostgreSQL must run as another user; otherwise it runs as the caller.
_as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres: starts (or reuses) the project's own cluster on 127.0.0.1:$COMPLAINT_PG_PORT.
pg_data_dir() {
    # As root the cluster runs as 'postgres', which must reach the data folder;
    # when it cannot reach .var/ (a private checkout), the cluster lives in /var/tmp.
    if [ -n "${COMPLAINT_PG_DATA:-}" ]; then echo "$COMPLAINT_PG_DATA"; return; fi
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$COMPLAINT_VAR" 2>/dev/null; then
        echo "/var/tmp/complaint-handling-pg-$(printf '%s' "$REPO_ROOT" | md5sum | cut -c1-8)"
    else
        echo "$COMPLAINT_VAR/pgdata"
    fi
}

start_postgres() {
    local data pg_ctl initdb
    data=$(pg_data_dir)
    pg_ctl=$(_pg_bin pg_ctl); initdb=$(_pg_bin initdb)
    if [ ! -s "$data/PG_VERSION" ]; then
        log "initialising PostgreSQL cluster in $data"
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres "$data"
        _as_pg "$initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null \
            || die "initdb failed in $data"
    fi
    if ! _as_pg "$pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "starting PostgreSQL on 127.0.0.1:$COMPLAINT_PG_PORT"
        _as_pg "$pg_ctl" -D "$data" -w -t 60 -l "$data/server.log" \
            -o "-p $COMPLAINT_PG_PORT -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            start >/dev/null || die "PostgreSQL did not start; see $data/server.log"
    fi
    PGHOST=127.0.0.1 PGPORT=$COMPLAINT_PG_PORT psql -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname='$COMPLAINT_PG_USER'" | grep -q 1 \
        || PGHOST=127.0.0.1 PGPORT=$COMPLAINT_PG_PORT psql -U postgres -d postgres -qc \
            "CREATE ROLE $COMPLAINT_PG_USER LOGIN SUPERUSER PASSWORD 'odoo'" \
        || die "could not create the PostgreSQL role $COMPLAINT_PG_USER"
    export PGHOST=127.0.0.1 PGPORT=$COMPLAINT_PG_PORT PGUSER=$COMPLAINT_PG_USER PGPASSWORD=odoo
}

stop_postgres() {
    local data
    data=$(pg_data_dir)
    [ -s "$data/PG_VERSION" ] && _as_pg "$(_pg_bin pg_ctl)" -D "$data" -m fast stop >/dev/null 2>&1 || true
}

# ensure_browser: Odoo's browser tests (tours) need Chromium; as root, install
# Debian's package when it is missing.
ensure_browser() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1 && return 0
    install_system_packages "Chromium (Odoo's browser tests run in it)" chromium
}

# project_venv: a virtualenv in .venv with the bridge and its test tools.
project_venv() {
    local venv=$REPO_ROOT/.venv
    local py=${COMPLAINT_PYTHON:-python3}
    if [ ! -x "$venv/bin/python" ]; then
        # the bridge reads its settings with tomllib: Python 3.11 or newer
        "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "the webhook bridge needs Python 3.11 or newer; $py is $("$py" -V 2>&1). Set COMPLAINT_PYTHON to another python."
        "$py" -c 'import ensurepip, venv' 2>/dev/null || install_system_packages "Python's venv module" python3-venv
        log "creating $venv"
        "$py" -m venv "$venv" || die "$py -m venv failed"
    fi
    if [ ! -f "$venv/.installed" ] || [ "$REPO_ROOT/setup.cfg" -nt "$venv/.installed" ]; then
        log "installing the bridge and test tools into $venv"
        local out rc=0
        out=$("$venv/bin/pip" install -q -e "$REPO_ROOT[test]" 2>&1) || rc=$?
        grep -v "^WARNING: Location" <<<"$out" >&2 || true
        [ "$rc" -eq 0 ] || die "pip install into $venv failed"
        touch "$venv/.installed"
    fi
    VENV_PY=$venv/bin/python
}
