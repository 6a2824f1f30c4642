#!/usr/bin/env bash
# make worker / make beat: a Celery worker, or the one beat, for a deployment with a broker. DEBUG off;
# the same SECRET_KEY, DATABASE_URL and CELERY_BROKER_URL as the web machines (the README's deployment
# section). Migrations are the web's (make serve applies them): start the web first.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
role="$1"
shift
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  echo "make $role needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0): without it tasks run inside the web process and there is nothing to start." >&2
  exit 2
fi
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s var/secret-key ]; then
    echo "make $role needs SECRET_KEY, the same as the web machines' (or this machine's var/secret-key, made by make serve)." >&2
    exit 2
  fi
  SECRET_KEY="$(cat var/secret-key)"
  export SECRET_KEY
fi
export DEBUG=false
case "$role" in
  worker) exec "$BIN/celery" -A backoffice worker --queues="${QUEUES:-celery,letters,dispatch,messages}" --loglevel="${LOGLEVEL:-INFO}" "$@" ;;
  beat) exec "$BIN/celery" -A backoffice beat --scheduler django_celery_beat.schedulers:DatabaseScheduler --loglevel="${LOGLEVEL:-INFO}" "$@" ;;
  *) echo "scripts/celery.sh worker|beat" >&2; exit 2 ;;
esac
