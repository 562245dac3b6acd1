"""Instance and solution schemas (design §9): what they accept, what they reject, round trips."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from pydantic import ValidationError

from opt_offload.errors import InputError
from opt_offload.io import load_instance, parse_instance, to_json
from opt_offload.schemas import INSTANCE_MODELS, make_solution, parse_solution

from .conftest import INSTANCES, instance_files, read_json
from .strategies import documents


def problems_of(data: dict) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_instance(data)
    return info.value.problems


@pytest.mark.parametrize("path", instance_files(), ids=lambda p: p.name)
def test_shipped_instances_are_valid_and_commented(path):
    instance = load_instance(path)
    assert instance.kind == path.parent.name
    assert instance.comment, "every shipped instance says what it shows"


@given(documents())
def test_round_trip_json_model_json(document):
    instance = parse_instance(document)
    text = to_json(instance)
    again = parse_instance(json.loads(text))
    assert again == instance
    assert to_json(again) == text


@given(documents())
def test_validated_instances_are_immutable(document):
    instance = parse_instance(document)
    with pytest.raises(ValidationError):
        instance.name = "changed"


def test_yaml_is_accepted(tmp_path):
    import yaml

    data = read_json(INSTANCES / "placement" / "hand-chain.json")
    path = tmp_path / "chain.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_instance(path) == load_instance(INSTANCES / "placement" / "hand-chain.json")


# --- admission -------------------------------------------------------------------------------

ADMISSION = read_json(INSTANCES / "admission" / "hand-three.json")


def admission(**changes) -> dict:
    return copy.deepcopy({**ADMISSION, **changes})


def test_admission_unknown_field_is_named():
    data = admission()
    data["candidates"][1]["snr"] = 3.0
    assert problems_of(data) == ["candidates[1].snr: Extra inputs are not permitted"]


def test_admission_nan_and_negative_bandwidth():
    data = admission(bandwidth_hz=-1.0)
    data["candidates"][0]["snr_db"] = float("nan")
    problems = problems_of(data)
    assert "bandwidth_hz: Input should be greater than or equal to 1" in problems
    assert "candidates[0].snr_db: Input should be a finite number" in problems


def test_admission_zero_bandwidth_is_rejected():
    assert problems_of(admission(bandwidth_hz=0)) == [
        "bandwidth_hz: Input should be greater than or equal to 1"
    ]


def test_admission_duplicate_ids():
    data = admission()
    data["candidates"][2]["id"] = "u1"
    assert problems_of(data) == ["candidates[2].id: duplicate id 'u1'"]


def test_admission_busy_longer_than_capacity():
    data = admission(server={"capacity": 1, "busy_remaining_s": [0.1, 0.2]})
    assert problems_of(data) == ["server.busy_remaining_s: 2 in-flight requests exceed capacity 1"]


def test_admission_uplink_busy_must_leave_band():
    server = {**ADMISSION["server"], "uplink_busy_hz": ADMISSION["bandwidth_hz"]}
    (problem,) = problems_of(admission(server=server))
    assert problem.startswith("server.uplink_busy_hz: ") and "must be below it" in problem
    server["uplink_busy_hz"] = -1.0
    assert problems_of(admission(server=server)) == [
        "server.uplink_busy_hz: Input should be greater than or equal to 0"
    ]
    server["uplink_busy_hz"] = 0.25 * ADMISSION["bandwidth_hz"]
    instance = parse_instance(admission(server=server))
    assert instance.available_bandwidth_hz == 0.75 * ADMISSION["bandwidth_hz"]


def test_admission_queue_upload_reading():
    assert parse_instance(admission()).queue.upload == "priced"
    assert parse_instance(admission(queue={"upload": "shared"})).shared_upload
    (problem,) = problems_of(admission(queue={"upload": "free"}))
    assert problem.startswith("queue.upload: ")


def test_admission_given_queue_delay_is_required():
    data = admission()
    del data["candidates"][1]["queue_delay_s"]
    assert problems_of(data) == [
        "candidates[1].queue_delay_s: required when queue.delay is 'given'"
    ]


def test_admission_estimate_mode_needs_no_queue_delay():
    data = admission(queue={"delay": "estimate"})
    for candidate in data["candidates"]:
        del candidate["queue_delay_s"]
    assert parse_instance(data).queue.delay == "estimate"


def test_admission_empty_candidate_list_is_valid():
    assert parse_instance(admission(candidates=[])).candidates == []


def test_admission_snr_at_threshold_can_upload():
    data = admission(snr_threshold_db=0.0)
    instance = parse_instance(data)
    at_threshold = instance.candidates[1]
    assert at_threshold.snr_db == 0.0 and instance.can_upload(at_threshold)
    assert not instance.can_upload(instance.candidates[2])


def test_admission_upload_coefficient():
    instance = parse_instance(admission())
    # SNR 15 -> log2(16) = 4 bit/s/Hz, 32 bits x 1000 tokens -> c = 8000
    assert instance.upload_coefficient(instance.candidates[0]) == pytest.approx(8000.0, rel=1e-12)


def test_wrong_version_and_kind():
    assert problems_of(admission(version=2)) == ["version: Input should be 1"]
    assert problems_of(admission(kind="knapsack")) == [
        "kind: must be one of admission, assignment, placement (got 'knapsack')"
    ]


# --- assignment ------------------------------------------------------------------------------

ASSIGNMENT = read_json(INSTANCES / "assignment" / "hand-two-edges.json")


def assignment(**changes) -> dict:
    return copy.deepcopy({**ASSIGNMENT, **changes})


def test_assignment_task_with_missing_model():
    data = assignment()
    data["tasks"][2]["model"] = "m70"
    assert problems_of(data) == ["tasks[2].model: unknown model 'm70'"]


def test_assignment_model_deployable_nowhere():
    data = assignment(servers=[s for s in ASSIGNMENT["servers"] if not s["cloud"]])
    data["servers"][0]["storage_gb"] = 12.0
    for row in data["transmission_s"].values():
        del row["cloud"]
    assert problems_of(data) == [
        "tasks[2].model: 'm13' (13.0 GB) fits on no edge server and there is no cloud server"
    ]


def test_assignment_latency_matrix_missing_pair():
    data = assignment()
    del data["transmission_s"]["t2"]["e1"]
    del data["transmission_s"]["t4"]
    assert problems_of(data) == [
        "transmission_s.t2.e1: missing",
        "transmission_s.t4: missing (every task needs a value per server)",
    ]


def test_assignment_negative_capacity():
    data = assignment()
    data["servers"][1]["compute_budget_flop"] = -1
    data["servers"][2]["storage_gb"] = -8
    assert problems_of(data) == [
        "servers[1].compute_budget_flop: Input should be greater than or equal to 0",
        "servers[2].storage_gb: Input should be greater than or equal to 0",
    ]


def test_assignment_duplicate_ids():
    data = assignment()
    data["servers"][2]["id"] = "e1"
    # decisions keep the placement in their own field (Solution v2), so no task id is reserved
    data["tasks"][0]["id"] = "placement"
    data["transmission_s"]["placement"] = data["transmission_s"].pop("t1")
    problems = problems_of(data)
    assert "servers[2].id: duplicate id 'e1'" in problems
    assert not any("reserved" in p for p in problems)


def test_assignment_fixed_placement_is_checked():
    data = assignment(placement={"e1": ["m7", "m13"], "cloud": ["m7"], "e2": ["m99"]})
    assert problems_of(data) == [
        "placement.e1: models need 20.0 GB, storage is 14.0 GB",
        "placement.cloud: not an edge server",
        "placement.e2: unknown model 'm99'",
    ]


def test_assignment_cloud_and_edge_storage_rules():
    data = assignment()
    data["servers"][0]["storage_gb"] = 100.0
    data["servers"][1]["storage_gb"] = None
    assert problems_of(data) == [
        "servers[0].storage_gb: must be null for a cloud server",
        "servers[1].storage_gb: required for an edge server",
    ]


# --- placement -------------------------------------------------------------------------------

PLACEMENT = read_json(INSTANCES / "placement" / "hand-chain.json")


def placement(**changes) -> dict:
    return copy.deepcopy({**PLACEMENT, **changes})


def test_placement_edge_naming_missing_node():
    data = placement()
    data["graph"]["edges"][1]["target"] = "z"
    assert problems_of(data) == ["graph.edges[1].target: unknown node 'z'"]


def test_placement_bandwidth_keys_are_devices_and_complete():
    data = placement(bandwidth_bytes_per_s={"gpu": {"tpu": 1.0}})
    assert problems_of(data) == [
        "bandwidth_bytes_per_s.gpu.tpu: unknown device",
        "bandwidth_bytes_per_s.gpu.cpu: missing (every ordered device pair is needed)",
        "bandwidth_bytes_per_s.cpu.gpu: missing (every ordered device pair is needed)",
    ]


def test_placement_tensor_larger_than_every_device():
    data = placement()
    data["graph"]["nodes"][3]["bytes"] = 13
    assert problems_of(data) == [
        "graph.nodes[3].bytes: 'd' needs 13 bytes, larger than every device (largest 12)"
    ]


def test_placement_pins_and_access_name_devices():
    data = placement(pinned={"a": "tpu", "zz": "gpu"})
    data["graph"]["nodes"][0]["accessed_by"] = ["npu"]
    assert problems_of(data) == [
        "graph.nodes[0].accessed_by: unknown device 'npu'",
        "pinned.a: unknown device 'tpu'",
        "pinned.zz: unknown node",
    ]


def test_placement_networkx_view():
    graph = load_instance(INSTANCES / "placement" / "hand-chain.json").to_networkx()
    assert list(graph.edges) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert graph.nodes["c"]["bytes"] == 4


# --- schemas and solutions -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(INSTANCE_MODELS))
def test_json_schema_forbids_unknown_fields(kind):
    schema = INSTANCE_MODELS[kind].model_json_schema()
    assert schema["additionalProperties"] is False
    assert "kind" in schema["required"]


def test_solution_round_trip():
    solution = make_solution(
        kind="admission",
        instance="x",
        solver="all-local",
        status="optimal",
        objective=1.5,
        bound=1.5,
        wall_s=0.001,
        decisions={"u1": {"action": "local", "bandwidth_hz": 0.0}},
        sense="max",
    )
    assert parse_solution(json.loads(to_json(solution))) == solution
