"""FastAGI: the phone's self-service menu (自助查询), served to Asterisk over TCP.

- ``protocol.py``: the AGI line protocol — the ``agi_*`` environment block, one command per
  line, ``200 result=…`` answers, ``HANGUP``/511 as the caller leaving.
- ``status.py``: the status script — a caller with an open ticket hears where it stands; anyone
  may key in a ticket number and query code; three wrong tries, then the queue.
- ``desk.py``: the desk script — which desk (专席) the caller's history sends them to, and how long
  they wait there (``telephony.desks``).
- ``server.py``: the asyncio server (``manage.py agi_server``, or inside ``serve``) that routes
  ``agi://host:port/<script>`` to its script.

Written here rather than taken from a library: the protocol is a dozen lines of framing, pyst2's
AGI class is synchronous over stdin/stdout (one process per call), and panoramisk's FastAGI
server is not a dependency of the project. docs/telephony.md has the dialplan.
"""
