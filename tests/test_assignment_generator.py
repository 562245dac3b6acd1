"""The assignment generator (design §5, §7): valid, reproducible to the byte, fed by the cost
models, and the shipped testbed instances are exactly what the command in their comment writes."""

from __future__ import annotations

import shlex

import pytest

from opt_offload.costs.configs import preset
from opt_offload.costs.devices import RTX_4090_FLOPS, TITAN_X_FLOPS
from opt_offload.costs.flops import generation_flops
from opt_offload.errors import InputError
from opt_offload.generators.assignment import generate_assignment
from opt_offload.io import load_instance, to_json

from .conftest import INSTANCES, run_cli

SHIPPED = sorted((INSTANCES / "assignment").glob("testbed-*.json"))


@pytest.mark.parametrize("preset_name", ["testbed", "random"])
def test_same_seed_same_bytes_other_seed_other_instance(preset_name):
    first = to_json(generate_assignment(preset=preset_name, seed=3))
    assert first == to_json(generate_assignment(preset=preset_name, seed=3))
    assert first != to_json(generate_assignment(preset=preset_name, seed=4))


def test_scale_preset_has_the_issue_sizes():
    instance = generate_assignment(preset="scale")
    edges = [s for s in instance.servers if not s.cloud]
    assert (len(instance.tasks), len(edges), len(instance.models)) == (1000, 20, 3)
    assert sum(s.cloud for s in instance.servers) == 1
    assert instance.placement is None and instance.variant == "admission"
    # QoS binds for some pairs, never for the cloud (which is then always an option).
    missed = [(t, s) for t in instance.tasks for s in edges if not instance.meets_qos(t, s)]
    assert 0 < len(missed) < len(instance.tasks) * len(edges)


def test_numbers_come_from_the_cost_models():
    instance = generate_assignment(preset="testbed", seed=0, tasks=5)
    cloud, edge = instance.servers[0], instance.servers[1]
    assert cloud.flops == RTX_4090_FLOPS and edge.flops == TITAN_X_FLOPS
    assert cloud.compute_budget_flop == pytest.approx(RTX_4090_FLOPS * 1.5)
    assert instance.computation_s is None
    # W_i of a 7B task lies between prefill+decode of the smallest and largest drawn lengths.
    smallest = generation_flops(preset("llama2-7b"), 50, 50).total
    largest = generation_flops(preset("llama2-13b"), 400, 300).total
    assert all(smallest <= t.workload_flop <= largest for t in instance.tasks)
    # The cloud is far, the home edge near: every task has an edge closer than the cloud.
    for row in instance.transmission_s.values():
        assert min(v for k, v in row.items() if k != "cloud") < row["cloud"]


def test_size_overrides_and_their_errors():
    instance = generate_assignment(preset="random", seed=1, tasks=3, edges=0, models=1)
    assert [s.id for s in instance.servers] == ["cloud"] and len(instance.tasks) == 3
    with pytest.raises(InputError) as error:
        generate_assignment(tasks=-1, models=4)
    assert {"--tasks", "--models"} <= {p.split(":")[0] for p in error.value.problems}
    with pytest.raises(InputError, match="--preset: unknown assignment preset 'nope'"):
        generate_assignment(preset="nope")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_instances_are_what_their_command_writes(path, tmp_path):
    shipped = load_instance(path)
    command = shlex.split(shipped.comment.split(":")[0])
    assert command[:3] == ["opt-offload", "generate", "assignment"]
    out = tmp_path / "again.json"
    result = run_cli(*command[1:], "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == path.read_bytes()


def test_cli_bad_size_is_one_line_exit_2():
    result = run_cli("generate", "assignment", "--models", "9")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "--models" in line
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""
