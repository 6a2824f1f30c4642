"""Supervisors' reports: aggregates the night writes set-wise, and the screens that read only them."""
