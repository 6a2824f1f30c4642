#!/usr/bin/env python
"""Run Django's command-line utility for the collections back office."""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
