"""The module pytest loads for chanx-core's plugin (the ``pytest11`` entry point); the
plugin is :mod:`chanx.testing.pytest_plugin`.

It is a top-level module so that pytest marks only it for assertion rewriting: for a
distribution with no top-level module, pytest would strip the ``chanx/`` folder from
its file names and mark unrelated top-level names (``__main__`` among them)."""

from chanx.testing.pytest_plugin import *  # noqa: F403
