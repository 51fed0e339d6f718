"""What a served process loads and freezes before its first request (web.warmup, hotline.heap)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from django.template import engines

from hotline import heap
from web.warmup import TEMPLATE_APPS, warm_up

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # the rest of the test run keeps its collector as it was


def cached_names() -> set[str]:
    (loader,) = engines["django"].engine.template_loaders  # the cached loader wraps the app loader
    return set(loader.get_template_cache)  # keyed by name when loaded with get_template


def test_warm_up_compiles_every_project_template_into_the_cache():
    files = sorted(
        path.relative_to(ROOT / app / "templates").as_posix()
        for app in TEMPLATE_APPS
        for path in (ROOT / app / "templates").rglob("*")
        if path.suffix in (".html", ".txt")
    )
    assert warm_up() == len(files)
    missing = set(files) - cached_names()
    assert not missing, f"compiled at the first request instead: {sorted(missing)[:5]}"


def test_freeze_takes_the_live_objects_out_of_the_collectors_passes(unfrozen):
    gc.unfreeze()
    kept = {"a": [1, 2, 3]}
    assert gc.is_tracked(kept) and any(obj is kept for obj in gc.get_objects())
    frozen = heap.freeze_long_lived()
    # Not equal to a later gc.get_freeze_count(): reference counting still frees frozen objects meanwhile.
    assert frozen > 0 and gc.get_freeze_count() > 0
    assert not any(obj is kept for obj in gc.get_objects())  # no generation holds it any more
    made_after = {"b": [4]}
    assert any(obj is made_after for obj in gc.get_objects())  # new objects are collected as before
