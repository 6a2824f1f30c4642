"""Signing in: failed logins counted per username and address (django-axes), the lockout page, supervisors'
unlocking, and the optional TOTP second factor (django-otp), required of some roles when a setting says so."""
