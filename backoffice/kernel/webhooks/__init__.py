"""Webhooks: the outbox's events pushed to the lender's systems, signed, in order per case, retried until dead.

``models`` (subscriptions, deliveries, attempts), ``signing`` (the ``X-Signature`` header),
``destinations`` (public addresses only, unless a network is allowed), ``transport`` (one safe HTTP
POST, to the addresses vetted), ``delivery`` (deliveries made set-wise from published events, claimed
and attempted), ``services`` (what an admin does), ``dispatch`` (what a commit wakes), ``tasks`` (Celery).
"""
