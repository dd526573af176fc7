"""One application per (framework, variant): ``raw`` does by hand what ``chanx`` does.

Every app serves ``/ws`` and answers the same frames:

* ``ping`` -> ``pong``;
* ``chat`` (a payload of a few typed fields, validated) -> ``chat_ack`` with the payload
  (an invalid one -> ``error``);
* ``shout`` -> ``shout_notice`` broadcast to every connection in the group ``bench``.

All connections join ``bench`` when they connect. No completion messages, no logging.
"""
