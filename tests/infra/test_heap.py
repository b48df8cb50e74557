"""A started process freezes its heap, so a full collection never walks what start-up built."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from infra.heap import settle_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the suite builds many containers: none of them may stay out of reach


def test_settling_moves_what_is_alive_out_of_the_collectors_generations(unfrozen: None) -> None:
    kept = [[n] for n in range(10_000)]  # tracked containers, alive across the call

    settle_heap()

    assert gc.get_freeze_count() >= len(kept)
    assert all(not any(o is kept for o in gc.get_objects(generation)) for generation in range(3))


def test_cycles_made_after_settling_are_still_collected(unfrozen: None) -> None:
    settle_heap()
    gc.collect()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle

    assert gc.collect() >= 1
