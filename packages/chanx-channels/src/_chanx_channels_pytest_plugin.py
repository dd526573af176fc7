"""The module pytest loads for chanx-channels' plugin (the ``pytest11`` entry point);
the plugin is :mod:`chanx.ext.channels.pytest_plugin`.

It is a top-level module so that pytest marks only it for assertion rewriting: for a
distribution with no top-level module, pytest would strip folders from its file names
and mark unrelated packages (Django Channels' ``channels`` among them)."""

from chanx.ext.channels.pytest_plugin import *  # noqa: F403
