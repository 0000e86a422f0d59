# Shared helpers for scripts/start and scripts/test. Source it; do not run it.
# Everything it creates lives under $COMPLAINT_VAR (default: .var/ in the repo).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPLAINT_VAR=${COMPLAINT_VAR:-$REPO_ROOT/.var}
COMPLAINT_PG_PORT=${COMPLAINT_PG_PORT:-55432}
COMPLAINT_PG_USER=${COMPLAINT_PG_USER:-odoo}
ADDONS_DIR=$REPO_ROOT/odoo_addons
mkdir -p "$COMPLAINT_VAR"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# find_odoo: sets ODOO_CMD (an array) from $ODOO_BIN or an `odoo` on PATH.
find_odoo() {
    if [ -n "${ODOO_BIN:-}" ]; then
        [ -x "$ODOO_BIN" ] || die "ODOO_BIN=$ODOO_BIN is not an executable Odoo 18 launcher"
        ODOO_CMD=("$ODOO_BIN")
    elif command -v odoo >/dev/null 2>&1; then
        ODOO_CMD=(odoo)
    elif command -v odoo-bin >/dev/null 2>&1; then
        ODOO_CMD=(odoo-bin)
    else
        die "no Odoo 18 found: set ODOO_BIN to an Odoo 18 launcher or put 'odoo' on PATH (see README, 'Getting Odoo 18')"
    fi
    local version
    version=$("${ODOO_CMD[@]}" --version 2>/dev/null | tail -n 1)
    case "$version" in
        *" 18."*|*" 18.0"*|*"saas~18"*) ;;
        *) die "the Odoo found (${ODOO_CMD[*]}) is not Odoo 18: it says '$version'" ;;
    esac
}

odoo_db_args() {
    echo --db_host=127.0.0.1 --db_port="$COMPLAINT_PG_PORT" --db_user="$COMPLAINT_PG_USER" --db_password=odoo
}

# odoo_args: database options and the addons path (Odoo adds its own addons to it).
# ODOO_ADDONS_PATH adds more folders; ODOO_RC names an Odoo configuration file.
set_odoo_args() {
    odoo_args=($(odoo_db_args) --addons-path="$ADDONS_DIR${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}")
    if [ -n "${ODOO_RC:-}" ]; then odoo_args+=(--config="$ODOO_RC"); fi
}

# addon_installed DB: true when complaint_handling is installed in DB.
addon_installed() {
    psql -d "$1" -tAc "SELECT 1 FROM ir_module_module WHERE name='complaint_handling' AND state='installed'" \
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
    if command -v "$tool" >/dev/null 2>&1; then command -v "$tool"; return; fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/"$tool"; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
    die "PostgreSQL's $tool not found: install PostgreSQL 15 or newer (Debian: postgresql)"
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
    command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Chromium for the browser tests (Debian package chromium)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
            || die "could not install Chromium (apt-get install chromium)"
    else
        die "the browser tests need Chromium: install it (Debian: apt-get install chromium)"
    fi
}

# project_venv: a virtualenv in .venv with the bridge and its test tools.
project_venv() {
    local venv=$REPO_ROOT/.venv
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        python3 -m venv "$venv" || die "python3 -m venv failed"
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
