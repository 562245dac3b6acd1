"""Shared by the torch-based cost-model tests."""

from __future__ import annotations

import pytest

from opt_offload.costs.predictor import torch_threads


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Small tensors gain nothing from threads; on a shared machine their spin-waits cost ten
    times the work (tests/test_costs_latency.py: 57 s on two threads, 6 s on one)."""
    with torch_threads(1):
        yield
