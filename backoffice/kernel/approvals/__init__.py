"""Maker-checker: a sensitive change waits as a proposal until another authorised person approves it."""
