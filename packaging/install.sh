#!/bin/bash
# Vigil gateway installer (docs/install.md). bash, not POSIX sh: Debian and Ubuntu always have it (Essential: yes),
# and pipefail/arrays keep the failure handling honest.
#
#   install.sh [--root DIR] [--bundle DIR]          first install
#   install.sh --upgrade [--root DIR] [--bundle DIR] replace the program; config and data are kept
#   install.sh --uninstall [--purge] [--root DIR]    remove program and units; --purge: also config, data, user
#
# Layout: program /opt/vigil (the PyInstaller one-folder bundle; kiosk session files in /opt/vigil/kiosk, docs in
# /opt/vigil/docs), units /usr/local/lib/systemd/system, the `vigil` command /usr/local/bin/vigil, configuration
# /etc/vigil/vigil.toml (root:vigil 0640, never overwritten), data /var/lib/vigil (vigil:vigil 0700).
# --root DIR installs into a throw-away root (a prefix): any user may run it, and nothing outside DIR is touched.
#
# Exit codes: 0 done; 1 not root; 2 bad arguments; 3 wrong state (already installed / nothing installed / bad
# bundle); 4 not enough free space; 5 failed part-way (what was done is undone; the running version is kept).
set -Eeuo pipefail  # -E: the ERR traps below also fire inside functions
umask 022

PROG=install.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_TREE=$(dirname "$HERE")
UNITS=(vigil-engine.service vigil-hmi.service vigil-hmi-x11.service vigil-gave-up.service)
ACCOUNT_GROUPS=(dialout)  # serial ports; the kiosk units add video/render/input(/tty) only while the kiosk runs
MARGIN_MB=${VIGIL_INSTALL_MARGIN_MB:-16}  # beyond the bundle: logs, the unpacked docs, a later upgrade's temp files

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { local code=$1; shift; printf '%s: %s\n' "$PROG" "$*" >&2; exit "$code"; }
usage() {
    sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}

mode=install root="" bundle="" purge=0
while [ $# -gt 0 ]; do
    case $1 in
        --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
        --root=*) root=${1#--root=}; shift ;;
        --bundle) [ $# -ge 2 ] || usage; bundle=$2; shift 2 ;;
        --bundle=*) bundle=${1#--bundle=}; shift ;;
        --upgrade) mode=upgrade; shift ;;
        --uninstall) mode=uninstall; shift ;;
        --purge) purge=1; shift ;;
        -h|--help) usage ;;
        *) printf '%s: unknown option %q; allowed: --root DIR, --bundle DIR, --upgrade, --uninstall [--purge]\n' \
               "$PROG" "$1" >&2; exit 2 ;;
    esac
done
[ "$purge" = 0 ] || [ "$mode" = uninstall ] || die 2 "--purge goes with --uninstall only"

# --- where: the throw-away root, or the real one ----------------------------------------------------------------
if [ -n "$root" ]; then
    [ -d "$root" ] || die 2 "--root $root: no such folder; allowed: an existing folder to install into"
    root=$(cd "$root" && pwd -P)
    [ "$root" != / ] || root=""
fi
R=$root  # every path below is "$R/..."; empty = the real system
if [ -z "$R" ] && [ "$(id -u)" != 0 ]; then
    die 1 "must be run as root (sudo $0 ...): it creates the vigil user and writes /opt, /etc and /var/lib;" \
          "nothing was changed. To try it as another user: --root DIR (a throw-away root)"
fi
as_root=0; [ "$(id -u)" = 0 ] && as_root=1

PREFIX=(); [ -z "$R" ] || PREFIX=(--prefix "$R")  # useradd/userdel/groupdel on DIR/etc without a chroot
OPT=$R/opt/vigil NEW=$R/opt/vigil.new PREV=$R/opt/vigil.prev
ETC=$R/etc/vigil DATA=$R/var/lib/vigil
UNITDIR=$R/usr/local/lib/systemd/system WRAPPER=$R/usr/local/bin/vigil

# systemd: only on the real root with a running manager; a throw-away root has none (enable/disable work offline).
live_systemd=0
[ -z "$R" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null && live_systemd=1

mb_free() { df -Pk "$1" | awk 'NR==2 {print int($4 / 1024)}'; }
existing_parent() { local p=$1; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; printf '%s\n' "$p"; }
shown() { printf '%s%s' "${1#"$R"}" "${R:+ (under $R)}"; }  # a path as the gateway will see it

need_space() {  # need_space MB PATH: refuse (exit 4, nothing changed) when PATH's file system has less free
    local need=$1 where=$2 free
    free=$(mb_free "$(existing_parent "$where")")
    if [ "$free" -lt "$need" ]; then
        die 4 "needs $need MB, $free MB free on $(shown "$where"); nothing was changed. Free some space" \
              "(journalctl --vacuum-size=50M, apt-get clean, old /opt/vigil.prev) and run it again"
    fi
}

# The vigil user's numeric ids as the target root knows them (a throw-away root has its own /etc/passwd).
vigil_uid() { awk -F: '$1 == "vigil" {print $3}' "$R/etc/passwd" 2>/dev/null; }
vigil_gid() { awk -F: '$1 == "vigil" {print $4}' "$R/etc/passwd" 2>/dev/null; }
own() {  # own USER:GROUP-spec PATH... with "vigil" resolved in the target root; skipped when not root
    local spec=$1; shift
    [ "$as_root" = 1 ] || return 0
    local uid gid
    case $spec in
        root:root) uid=0 gid=0 ;;
        root:vigil) uid=0 gid=$(vigil_gid) ;;
        vigil:vigil) uid=$(vigil_uid) gid=$(vigil_gid) ;;
    esac
    [ -n "$uid" ] && [ -n "$gid" ] || { say "no vigil user in $(shown /etc/passwd): $* left owned by root"; return 0; }
    chown "$uid:$gid" "$@"
}
as_vigil() {  # run the program as the vigil user (never as root); in a throw-away root as the caller, since the
    local uid gid  # uid there is that root's own (a prefix, not a chroot) and may mean nothing, or another user, here
    uid=$(vigil_uid); gid=$(vigil_gid)
    if [ -z "$R" ] && [ "$as_root" = 1 ] && [ -n "$uid" ]; then
        (cd / && HOME=/var/lib/vigil setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@")
    else
        (cd / && "$@")
    fi
}

check_bundle() {
    [ -n "$bundle" ] || bundle=$SOURCE_TREE/dist/vigil
    [ -d "$bundle" ] || die 3 "no bundle at $bundle; build it with 'make bundle' or name it with --bundle DIR"
    bundle=$(cd "$bundle" && pwd -P)
    [ -f "$bundle/vigil" ] && [ -x "$bundle/vigil" ] ||
        die 3 "$bundle is not a Vigil bundle (no executable 'vigil' in it); allowed: the dist/vigil folder of 'make bundle'"
    for f in "${UNITS[@]}"; do
        [ -f "$HERE/systemd/$f" ] || die 3 "missing unit $HERE/systemd/$f (run install.sh from its packaging folder)"
    done
    [ -f "$HERE/kiosk/vigil-session-loop" ] && [ -f "$HERE/kiosk/vigil-xsession" ] ||
        die 3 "missing kiosk session files in $HERE/kiosk"
    config_template >/dev/null  # not in $(...) here, so its refusal stops the installer before any change
}

bundle_mb() { du -sk "$bundle" "$HERE/kiosk" | awk '{s += $1} END {print int(s / 1024) + 1}'; }

config_template() {  # the bundle's own default config (matches its version), else the source tree's
    local t
    for t in "$bundle/_internal/resources/vigil.toml" "$bundle/resources/vigil.toml" "$SOURCE_TREE/resources/vigil.toml"; do
        [ -f "$t" ] && { printf '%s\n' "$t"; return 0; }
    done
    die 3 "no default configuration (resources/vigil.toml) in $bundle or $SOURCE_TREE"
}

# --- the pieces ----------------------------------------------------------------------------------------------------
stage_program() {  # the new program, complete, in /opt/vigil.new; the caller removes it on failure
    rm -rf "$NEW"
    mkdir -p "$R/opt"
    cp -a "$bundle/." "$NEW/"
    mkdir -p "$NEW/kiosk" "$NEW/docs"
    install -m 0755 "$HERE/kiosk/vigil-session-loop" "$HERE/kiosk/vigil-xsession" "$NEW/kiosk/"
    if [ -d "$SOURCE_TREE/docs" ]; then cp "$SOURCE_TREE"/docs/*.md "$NEW/docs/" 2>/dev/null || true; fi
    # The program is root's and read-only to everyone else: the service user cannot change what it runs.
    own root:root -R "$NEW"
    chmod -R u+rwX,go+rX,go-w "$NEW"
    # It must start at all (as the vigil user): a broken bundle is refused before anything is stopped.
    if ! as_vigil "$NEW/vigil" --help >/dev/null 2>"$R/opt/.vigil-install.err"; then
        say "the new program does not start ('$NEW/vigil --help' failed):"
        sed 's/^/    /' "$R/opt/.vigil-install.err" | head -20 >&2
        rm -f "$R/opt/.vigil-install.err"
        return 1
    fi
    rm -f "$R/opt/.vigil-install.err"
}

create_user() {
    if [ -n "$(vigil_uid)" ]; then say "user vigil exists (uid $(vigil_uid))"; return 0; fi
    if [ "$as_root" != 1 ]; then say "not root: user vigil not created in $R (files stay the caller's)"; return 0; fi
    if [ ! -f "$R/etc/passwd" ]; then say "no $(shown /etc/passwd): user vigil not created"; return 0; fi
    local groups=() g
    for g in "${ACCOUNT_GROUPS[@]}"; do
        if grep -q "^$g:" "$R/etc/group"; then groups+=("$g"); else say "group $g does not exist: vigil not added to it"; fi
    done
    # --prefix: use and change DIR/etc/{passwd,group,shadow} without a chroot (works offline, on a bare tree).
    useradd "${PREFIX[@]}" --system --user-group --home-dir /var/lib/vigil --no-create-home \
        --shell /usr/sbin/nologin --comment "Vigil pump monitoring" \
        ${groups[0]:+--groups "$(IFS=,; echo "${groups[*]}")"} vigil
    say "created system user vigil (uid $(vigil_uid), groups vigil${groups[0]:+ ${groups[*]}}; no login shell)"
}

make_dirs() {  # data and config folders; existing ones keep their content, their modes are put right
    mkdir -p "$DATA/log" "$ETC/private"
    own vigil:vigil "$DATA" "$DATA/log" "$ETC/private"
    chmod 0700 "$DATA" "$DATA/log" "$ETC/private"
    own root:vigil "$ETC"
    chmod 0750 "$ETC"
}

# The gateway's settings: absolute paths (any working directory), no demo users, no demo faults.
gateway_config() {  # gateway_config TEMPLATE OUT
    sed -e 's|^path = "var/vigil.db"|path = "/var/lib/vigil/vigil.db"|' \
        -e 's|^dir = "var/log"|dir = "/var/lib/vigil/log"|' \
        -e 's|^credentials_file = ""|credentials_file = "/var/lib/vigil/credentials.cfg"|' \
        -e 's|^credentials_key_file = ""|credentials_key_file = "/etc/vigil/private/keyring.key"|' \
        -e 's|^seed_demo_users = true|seed_demo_users = false|' \
        -e 's|^# scenario = "demo" .*|scenario = "none"          # a gateway never runs the demo faults (set by install.sh)|' "$1" >"$2"
    local want
    for want in '^path = "/var/lib/vigil/vigil.db"' '^dir = "/var/lib/vigil/log"' \
                '^credentials_file = "/var/lib/vigil/credentials.cfg"' \
                '^credentials_key_file = "/etc/vigil/private/keyring.key"' '^seed_demo_users = false' \
                '^scenario = "none"'; do
        grep -q "$want" "$2" || { say "the default configuration $1 changed shape: '$want' not set"; return 1; }
    done
}

install_config() {
    local template tmp
    template=$(config_template)
    tmp=$ETC/.vigil.toml.tmp
    if ! gateway_config "$template" "$tmp"; then
        rm -f "$tmp"
        [ -e "$ETC/vigil.toml" ] || return 1  # a first install needs it; an upgrade keeps the admin's file anyway
        say "kept $(shown "$ETC/vigil.toml"); no vigil.toml.dist for this release"
        return 0
    fi
    own root:vigil "$tmp"; chmod 0640 "$tmp"
    if [ -e "$ETC/vigil.toml" ]; then
        mv -f "$tmp" "$ETC/vigil.toml.dist"  # this release's defaults, to compare with: never read by Vigil
        say "kept $(shown "$ETC/vigil.toml") (this release's defaults: vigil.toml.dist)"
    else
        cp -p "$tmp" "$ETC/vigil.toml.dist"
        mv -f "$tmp" "$ETC/vigil.toml"
        say "wrote $(shown "$ETC/vigil.toml") from $template"
    fi
}

install_units_and_command() {
    mkdir -p "$UNITDIR" "$(dirname "$WRAPPER")"
    local f
    for f in "${UNITS[@]}"; do install -m 0644 "$HERE/systemd/$f" "$UNITDIR/$f"; done
    own root:root "${UNITS[@]/#/$UNITDIR/}"
    cat >"$WRAPPER.tmp" <<'EOF'
#!/bin/sh
# `vigil ...` for a technician (installed by packaging/install.sh): the installed program with the gateway's
# configuration, run as the vigil user when called by root, so nothing in /var/lib/vigil becomes root's.
config=/etc/vigil/vigil.toml
case " $* " in
    *" --config "*|*" --config="*) ;;
    *) case ${1:-} in
           doctor|credentials|users|backup|export|handover) sub=$1; shift; set -- "$sub" --config "$config" "$@" ;;
           *) set -- --config "$config" "$@" ;;
       esac ;;
esac
# The audit log names the technician (console:<login>), not "vigil": the login sudo came from, else root's.
who=${SUDO_USER:-$(id -un)}
if [ "$(id -u)" = 0 ]; then exec runuser -u vigil -- env LOGNAME="$who" USER="$who" /opt/vigil/vigil "$@"; fi
exec /opt/vigil/vigil "$@"
EOF
    chmod 0755 "$WRAPPER.tmp"; own root:root "$WRAPPER.tmp"; mv -f "$WRAPPER.tmp" "$WRAPPER"
}

daemon_reload() { if [ "$live_systemd" = 1 ]; then systemctl daemon-reload; fi; }

active_units() {  # the Vigil services running now (the ones an upgrade stops and starts again)
    [ "$live_systemd" = 1 ] || return 0
    local u
    for u in vigil-engine.service vigil-hmi.service vigil-hmi-x11.service; do
        systemctl is-active --quiet "$u" && printf '%s\n' "$u"
    done
    return 0
}

backup_database() {  # before an upgrade, with the installed program's own `vigil backup`; services are stopped
    local db=$DATA/vigil.db dest
    [ -f "$db" ] || { say "no database yet at $(shown "$db"): nothing to back up"; return 0; }
    mkdir -p "$DATA/backups"; own vigil:vigil "$DATA/backups"; chmod 0700 "$DATA/backups"
    local stamp n=1
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    dest=$DATA/backups/vigil-pre-upgrade-$stamp.db
    # Two upgrades within one second (a retry) must not overwrite the first copy: number the next one.
    while [ -e "$dest" ]; do n=$((n + 1)); dest=$DATA/backups/vigil-pre-upgrade-$stamp-$n.db; done
    if as_vigil "$OPT/vigil" backup --config "$ETC/vigil.toml" --db "$db" "$dest"; then
        own vigil:vigil "$dest"  # a throw-away root's copy was made by the caller
        say "database backed up to $(shown "$dest")"
    elif [ -z "$(active_units)" ]; then
        # The installed program cannot run (or has no backup command): with Vigil stopped the file is at rest,
        # so a plain copy (with its WAL) is consistent.
        say "'vigil backup' failed; Vigil is stopped, so copying the file instead"
        cp -p "$db" "$dest"
        [ ! -f "$db-wal" ] || cp -p "$db-wal" "$dest-wal"
        say "database copied to $(shown "$dest")"
    else
        return 1
    fi
}

swap_in() {  # /opt/vigil.new -> /opt/vigil, the old one to /opt/vigil.prev (two renames, services stopped)
    rm -rf "$PREV"
    mv "$OPT" "$PREV"
    if ! mv "$NEW" "$OPT"; then mv "$PREV" "$OPT"; return 1; fi
}

# --- the three modes -----------------------------------------------------------------------------------------------
fresh_cleanup() {  # a first install that failed: take away what this run made, so nothing is half-installed
    rm -rf "$NEW" "$ETC/.vigil.toml.tmp" "$WRAPPER.tmp"
    [ "$had_opt_parent" = 1 ] || rmdir "$R/opt" 2>/dev/null || true
    [ "$had_etc" = 1 ] || rm -rf "$ETC"
    [ "$had_data" = 1 ] || rm -rf "$DATA"
    [ "$had_units" = 1 ] || rm -f "${UNITS[@]/#/$UNITDIR/}"
    [ "$had_wrapper" = 1 ] || rm -f "$WRAPPER"
    if [ "$had_user" = 0 ] && [ -n "$(vigil_uid)" ] && [ "$as_root" = 1 ]; then
        userdel "${PREFIX[@]}" vigil 2>/dev/null || true
        groupdel "${PREFIX[@]}" vigil 2>/dev/null || true
    fi
    say "install failed: what this run made was removed; nothing is installed" >&2
    exit 5
}

do_install() {
    [ ! -e "$OPT" ] || die 3 "Vigil is already installed in $(shown "$OPT"); to replace the program and keep the" \
                             "configuration and data: $0 --upgrade"
    check_bundle
    need_space $(( $(bundle_mb) + MARGIN_MB )) "$R/opt"
    need_space "$MARGIN_MB" "$R/var/lib"
    had_opt_parent=0 had_etc=0 had_data=0 had_units=0 had_wrapper=0 had_user=0
    [ -d "$R/opt" ] && had_opt_parent=1; [ -e "$ETC" ] && had_etc=1; [ -e "$DATA" ] && had_data=1
    [ -e "$UNITDIR/vigil-engine.service" ] && had_units=1; [ -e "$WRAPPER" ] && had_wrapper=1
    [ -n "$(vigil_uid)" ] && had_user=1
    trap fresh_cleanup ERR
    create_user
    stage_program
    make_dirs
    install_config
    install_units_and_command
    mv "$NEW" "$OPT"
    trap - ERR
    daemon_reload
    say "installed in $(shown "$OPT"). Next: edit /etc/vigil/vigil.toml ([source]), then enable ONE service:" \
        "systemctl enable --now vigil-hmi (cage) | vigil-hmi-x11 (X11) | vigil-engine (no screen); docs/install.md"
}

before_switch_failed() {  # nothing replaced yet: the installed program is as it was; start what was running
    rm -rf "$NEW"
    [ "${#running[@]}" = 0 ] || systemctl start "${running[@]}" || true
    say "upgrade failed before the switch: the installed version is unchanged${running[*]:+ and started again}" >&2
    exit 5
}

after_switch_failed() {  # the new program is in place but the upgrade did not finish: put the previous one back
    trap - ERR
    [ "${#running[@]}" = 0 ] || systemctl stop "${running[@]}" || true
    rm -rf "$NEW"
    if [ -d "$PREV" ]; then mv "$OPT" "$NEW" && mv "$PREV" "$OPT" && rm -rf "$NEW"; fi
    [ "${#running[@]}" = 0 ] || systemctl start "${running[@]}" || true
    say "upgrade failed: the previous version is back in $(shown "$OPT")${running[*]:+ and started again}; if it" \
        "refuses the database, restore the pre-upgrade copy in $(shown "$DATA/backups") (docs/backup.md)" >&2
    exit 5
}

do_upgrade() {
    [ -x "$OPT/vigil" ] || die 3 "nothing installed in $(shown "$OPT"); for a first install run $0 without --upgrade"
    check_bundle
    need_space $(( $(bundle_mb) + MARGIN_MB )) "$R/opt"
    if [ -f "$DATA/vigil.db" ]; then
        need_space $(( $(du -sk "$DATA/vigil.db" | awk '{print int($1 / 1024) + 1}') + MARGIN_MB )) "$DATA"
    fi
    running=()
    trap before_switch_failed ERR
    stage_program  # a broken or incomplete new program is refused here, before anything is stopped
    mapfile -t running < <(active_units)
    if [ "${#running[@]}" -gt 0 ]; then
        say "stopping ${running[*]}"; systemctl stop "${running[@]}"
    elif [ "$live_systemd" = 0 ]; then
        say "no running systemd for $(shown /): services not stopped or started"
    fi
    backup_database
    create_user   # idempotent
    make_dirs
    swap_in
    trap after_switch_failed ERR
    install_config
    install_units_and_command
    daemon_reload
    if [ "${#running[@]}" -gt 0 ]; then
        systemctl start "${running[@]}"  # Type=notify: waits for READY=1; a failure goes back to the previous version
    fi
    trap - ERR
    say "upgraded $(shown "$OPT"); the previous program is in $(shown "$PREV") for a rollback" \
        "(docs/install.md)${running[*]:+; started again: ${running[*]}}"
}

do_uninstall() {
    local f present=()
    for f in "${UNITS[@]}"; do [ -e "$UNITDIR/$f" ] && present+=("$f"); done
    if [ "${#present[@]}" -gt 0 ]; then
        if [ "$live_systemd" = 1 ]; then
            systemctl disable --now "${present[@]}" || true
        elif command -v systemctl >/dev/null; then
            systemctl --root="${R:-/}" --quiet disable "${present[@]}" 2>/dev/null || true  # offline: the symlinks
        fi
        rm -f "${present[@]/#/$UNITDIR/}"
    fi
    rm -rf "$NEW" "$OPT" "$PREV"
    rm -f "$WRAPPER"
    daemon_reload
    if [ "$purge" = 1 ]; then
        rm -rf "$ETC" "$DATA"
        if [ -n "$(vigil_uid)" ]; then
            if [ "$as_root" = 1 ]; then
                userdel "${PREFIX[@]}" vigil
                ! grep -q '^vigil:' "$R/etc/group" || groupdel "${PREFIX[@]}" vigil
                say "removed user vigil"
            else
                say "not root: user vigil left in $(shown /etc/passwd)"
            fi
        fi
        say "uninstalled and purged: program, units, $(shown "$ETC"), $(shown "$DATA") and the vigil user are gone"
    else
        say "uninstalled the program and units; kept $(shown "$ETC") and $(shown "$DATA") (and the vigil user):" \
            "'$0 --uninstall --purge' removes them"
    fi
}

case $mode in
    install) do_install ;;
    upgrade) do_upgrade ;;
    uninstall) do_uninstall ;;
esac
