#!/usr/bin/env sh
# Debian packages and services the full test suite needs: Chromium (browser tests),
# LibreOffice Impress + poppler (slide rendering tests), a running MariaDB (database tests).
set -eu
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v soffice >/dev/null 2>&1 || need="$need libreoffice-impress"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need="$need mariadb-server"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "system-deps: installing$need"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
    else
        echo "system-deps: missing$need (install them with apt as root)" >&2
    fi
fi
# MariaDB on 127.0.0.1:3306 (root, empty password, database test)
if ! mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1; then
    echo "system-deps: starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    i=0
    until mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 60 ] && { echo "system-deps: MariaDB did not start" >&2; exit 1; }
        sleep 0.5
    done
fi
mariadb -uroot -h127.0.0.1 -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null
