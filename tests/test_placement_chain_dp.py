"""chain-dp relaxes a stage's segments for many starts at once, in blocks of starts (so that
its arrays stay small with many devices); one start a block is the loop over starts it
replaced, and every block size must choose the same partition."""

from __future__ import annotations

from unittest import mock

import pytest

from opt_offload.errors import InputError
from opt_offload.solvers.placement import chain_dp

from .placement_cases import random_instance


def decided(instance):
    try:
        result = chain_dp.chain_dp(instance)
    except InputError as exc:  # a cycle of layers
        return str(exc)
    return result.status, result.decisions


@pytest.mark.parametrize("seed", range(30))
def test_blocks_of_starts_choose_as_one_start_at_a_time(seed):
    shape = ("chain", "dag")[seed % 2]
    loose = seed % 3 != 0  # most with room for a partition, some too tight for any
    instance = random_instance(
        5000 + seed, shape=shape, max_nodes=30, max_devices=4, loose_memory=loose
    )
    whole = decided(instance)
    for entries in (1, 48):  # one start a block; a few starts a block
        with mock.patch.object(chain_dp, "BLOCK_ENTRIES", entries):
            assert decided(instance) == whole, entries
