"""What a long-running process does with its heap once it has started."""

from __future__ import annotations

import gc
import time


def settle_heap() -> None:
    """Take everything alive after start-up out of the cyclic collector's reach (`gc.freeze`).

    A full collection walks every tracked object, and a started gateway holds the imported
    modules, the ORM mappings and the statement caches: measured at 160–220 ms, during which no
    request moves. In the load bench both gateways took one early in the run, and at 200
    replies/s the backlog behind it took ~5 s to drain. Frozen objects are never walked again;
    cycles made later are collected as before. Only for processes that start once: a test
    suite building many containers would keep each one's cycles for good.
    """
    gc.collect()
    gc.freeze()


def settle_heap_again() -> float:
    """After a wave: collect the whole heap once, frozen part included, and freeze what survives.

    A wave leaves a worker with caches and buffers the collector keeps walking: measured in the
    load bench, each worker's full collections during the replies after a wave took 45–73 ms of
    CPU, one every few seconds, and each held up that worker's sends for as long. Unfreezing first
    lets this pass free whatever the last freeze kept and is now garbage, so freezing again keeps
    nothing for good. The same caveat as `settle_heap`: only for processes that start once.
    Returns the seconds it took (no work moves meanwhile).
    """
    started = time.perf_counter()
    gc.unfreeze()
    settle_heap()
    return time.perf_counter() - started
