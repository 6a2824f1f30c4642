"""gunicorn's settings for ``make serve``: one worker per core and one more, graceful restarts, no access log.

The access log is ours (one JSON line a request, ``backoffice.kernel.serving``). ``kill -HUP`` on the
master starts new workers and lets the old ones finish what they hold (``graceful_timeout``).
Variables: PORT (8000), BIND (127.0.0.1:PORT; 0.0.0.0:PORT behind a load balancer), WEB_CONCURRENCY,
and TLS_CERTFILE with TLS_KEYFILE (PEM) when gunicorn ends TLS itself, on one machine with no proxy in front.
"""

import multiprocessing
import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() + 1)
# A report over a million lines answers within seconds; a request still running after a minute is stuck.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = "info"
# Without a proxy, gunicorn ends TLS itself (scripts/serve.sh checks that both files are given and readable).
certfile = os.environ.get("TLS_CERTFILE") or None
keyfile = os.environ.get("TLS_KEYFILE") or None
# The proxy in front says when the request came over TLS (Django reads X-Forwarded-Proto itself).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Restarts are signals to the master (HUP, TERM), not a control socket shared by every gunicorn of the user.
control_socket_disable = True
