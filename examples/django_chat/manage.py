#!/usr/bin/env python
"""Django's command-line utility for the example (run from the repository root:
``python -m examples.django_chat.manage migrate``)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_chat.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
