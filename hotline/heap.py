"""Short garbage-collector pauses for the long-running processes (web server, bridge, AGI server, jobs).

CPython's cyclic collector walks every tracked object on a full (generation 2) pass, with the
GIL held: the event loop and every thread stop. A served Django process holds a few hundred
thousand objects that live as long as it does (modules, models, URL patterns, compiled templates,
translation catalogs), and each full pass walked them all again: 90–200 ms, every 15–25 s under
the screen-pop benchmark, and the pops in flight waited for it (benchmarks/README.md).
``gc.freeze()`` moves the objects alive now into a permanent generation the collector no longer
walks; reference counting still frees them.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_long_lived() -> int:
    """Collect once, then freeze what survives; returns how many objects are frozen now."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("%d objects frozen out of the collector's full passes", frozen)
    return frozen
