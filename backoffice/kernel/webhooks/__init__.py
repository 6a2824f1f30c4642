"""Webhooks: the outbox's events pushed to the lender's systems, signed, in order per case, retried until dead.

``models`` (subscriptions, deliveries, attempts), ``signing`` (the ``X-Signature`` header), ``transport``
(one safe HTTP POST), ``delivery`` (deliveries made set-wise from published events, claimed and
attempted), ``services`` (what an admin does), ``dispatch`` (what a commit wakes), ``tasks`` (Celery).
"""
