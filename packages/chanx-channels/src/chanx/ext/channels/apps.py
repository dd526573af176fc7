"""The Django app of chanx-channels (for its management commands)."""

from django.apps import AppConfig


class ChanxChannelsConfig(AppConfig):
    """``"chanx.ext.channels"`` in ``INSTALLED_APPS``; labelled ``chanx_channels`` so it
    never clashes with Channels' own ``channels`` app."""

    name = "chanx.ext.channels"
    label = "chanx_channels"
    verbose_name = "chanx for Django Channels"
