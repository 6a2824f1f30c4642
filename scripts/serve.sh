#!/usr/bin/env bash
# make serve: the back office as production serves it. DEBUG off, the deployment checks, static files
# collected (hashed, compressed), migrations applied, then gunicorn. Set SECRET_KEY, ALLOWED_HOSTS and
# DATABASE_URL (and REDIS_URL, CELERY_BROKER_URL) as the README's deployment section says; on one machine
# without SECRET_KEY, a key is made once into var/secret-key, readable by its owner only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var && chmod 700 var
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s var/secret-key ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret-key)
  fi
  SECRET_KEY="$(cat var/secret-key)"
  export SECRET_KEY
  echo "SECRET_KEY is not set: using this machine's var/secret-key (every machine of a deployment needs the same SECRET_KEY)."
fi
if [ -n "${TLS_CERTFILE:-}${TLS_KEYFILE:-}" ]; then
  for file in "${TLS_CERTFILE:-}" "${TLS_KEYFILE:-}"; do
    if [ -z "$file" ] || [ ! -r "$file" ]; then
      echo "TLS_CERTFILE and TLS_KEYFILE must both name readable PEM files (TLS_CERTFILE='${TLS_CERTFILE:-}', TLS_KEYFILE='${TLS_KEYFILE:-}')." >&2
      exit 2
    fi
  done
  SCHEME=https
fi
export DEBUG=false
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
"$BIN/python" manage.py check --deploy --fail-level ERROR
"$BIN/python" manage.py collectstatic --no-input -v 0
"$BIN/python" manage.py migrate --no-input -v 0
if [ "${SCHEME:-http}" = https ]; then
  echo "Serving https://${BIND:-127.0.0.1:${PORT:-8000}} (TLS ended here, with $TLS_CERTFILE); health: /healthz"
else
  echo "Serving on ${BIND:-127.0.0.1:${PORT:-8000}} behind your TLS proxy (it must send X-Forwarded-Proto: https); health: /healthz"
fi
exec "$BIN/gunicorn" backoffice.wsgi:application --config python:backoffice.gunicorn_conf
