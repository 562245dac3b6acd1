"""Device presets for tensor placement (design §6): memory, FLOP/s, directed link rates.

Every number cites where it comes from. ``bandwidth[d1][d2]`` is the rate for data moving from
d1 to d2 (bytes/s). ``home`` is the device where requests arrive and answers leave: generators
pin a model's input tokens and output logits there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, lookup

GIB = 2**30


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    memory_bytes: float
    flops: float  # FLOP/s
    memory_bandwidth_bytes_per_s: float  # for roofline estimates (the pipeline planner)


@dataclass(frozen=True)
class DevicePreset:
    name: str
    description: str
    devices: tuple[DeviceSpec, ...]
    bandwidth: dict[str, dict[str, float]]
    home: str

    def device(self, device_id: str) -> DeviceSpec:
        for spec in self.devices:
            if spec.id == device_id:
                return spec
        known = ", ".join(d.id for d in self.devices)
        raise InputError(f"--device: unknown device {device_id!r} in {self.name} (known: {known})")


def uniform_links(ids: list[str], rate: float) -> dict[str, dict[str, float]]:
    return {a: {b: rate for b in ids if b != a} for a in ids}


# 003 paper, Sec. 4.1: "four edge servers, each equipped with an NVIDIA GeForce GTX TITAN X GPU,
# and a central cloud server ... equipped with an NVIDIA RTX 4090 GPU. All devices are
# interconnected via a router and a switch, with a physical bandwidth of 50 Mbps."
# GTX TITAN X (Maxwell GM200, NVIDIA launch specification, March 2015): 12288 MB GDDR5,
# 336.5 GB/s, 3072 CUDA cores at 1075 MHz boost -> 3072 x 2 x 1.075e9 = 6.605e12 FP32 FLOP/s
# (Maxwell has no int8 dot-product units, so int8 weights are computed in FP32).
TITAN_X_MEMORY = 12 * GIB
TITAN_X_FLOPS = 3072 * 2 * 1.075e9
TITAN_X_MEMORY_BANDWIDTH = 336.5e9
# RTX 4090 (NVIDIA Ada Lovelace architecture whitepaper / product page): 24 GB GDDR6X,
# 1008 GB/s, 82.58 TFLOPS peak FP32 (16384 CUDA cores at 2.52 GHz boost).
RTX_4090_MEMORY = 24 * GIB
RTX_4090_FLOPS = 82.58e12
RTX_4090_MEMORY_BANDWIDTH = 1008e9
PAPER_LINK = 50e6 / 8  # 50 Mbit/s in bytes/s


def paper_testbed(edges: int) -> DevicePreset:
    edge_ids = [f"edge-{i}" for i in range(1, edges + 1)]
    devices = (DeviceSpec("cloud", RTX_4090_MEMORY, RTX_4090_FLOPS, RTX_4090_MEMORY_BANDWIDTH),)
    devices += tuple(
        DeviceSpec(e, TITAN_X_MEMORY, TITAN_X_FLOPS, TITAN_X_MEMORY_BANDWIDTH) for e in edge_ids
    )
    return DevicePreset(
        name="paper-testbed" if edges == 4 else f"paper-testbed-{edges}",
        description=f"003 paper Sec. 4.1: RTX 4090 cloud + {edges} GTX TITAN X edge server(s), "
        "50 Mbit/s links",
        devices=devices,
        bandwidth=uniform_links(["cloud", *edge_ids], PAPER_LINK),
        home="edge-1",
    )


# FlexGen (Sheng et al., ICML 2023), experimental/cost_model.py, CostModelConfig: hardware
# constants fitted on a Google Cloud T4 machine, with GB = 2**30 (flexgen.utils): gmem 15 GB,
# cmem 204 GB, nmem 1500 GB; ctog 12.89 GB/s, gtoc 4.82 GB/s (hidden states), ctod 2.015 GB/s,
# dtoc 0.473 GB/s; cpu_flops 0.0123 T. FlexGen stages disk traffic through CPU memory, so a
# GPU <-> disk transfer runs at the slower of its two hops. GPU FLOP/s: NVIDIA T4 datasheet,
# 65 TFLOPS mixed-precision FP16/FP32.
FLEXGEN_GPU_TO_CPU = 4.82 * GIB
FLEXGEN_CPU_TO_GPU = 12.89 * GIB
FLEXGEN_CPU_TO_DISK = 2.015 * GIB
FLEXGEN_DISK_TO_CPU = 0.473 * GIB
GPU_TO_DISK = min(FLEXGEN_GPU_TO_CPU, FLEXGEN_CPU_TO_DISK)
DISK_TO_GPU = min(FLEXGEN_DISK_TO_CPU, FLEXGEN_CPU_TO_GPU)
# The disk runs no operator. The schema needs a positive FLOP/s; 1 FLOP/s makes any operator
# placed there break a compute-time bound (``compute_time_max_s``).
DISK_FLOPS = 1.0


def flexgen_t4() -> DevicePreset:
    return DevicePreset(
        name="flexgen-t4",
        description="FlexGen's GCP T4 machine: GPU, CPU memory, NVMe disk, directed rates",
        devices=(
            # T4 datasheet: 320 GB/s memory bandwidth
            DeviceSpec("gpu", 15 * GIB, 65e12, 320e9),
            # the CPU's memory bandwidth: FlexGen fits none; the CPU -> GPU rate stands in
            DeviceSpec("cpu", 204 * GIB, 0.0123e12, FLEXGEN_CPU_TO_GPU),
            DeviceSpec("disk", 1500 * GIB, DISK_FLOPS, FLEXGEN_DISK_TO_CPU),
        ),
        bandwidth={
            "gpu": {"cpu": FLEXGEN_GPU_TO_CPU, "disk": GPU_TO_DISK},
            "cpu": {"gpu": FLEXGEN_CPU_TO_GPU, "disk": FLEXGEN_CPU_TO_DISK},
            "disk": {"cpu": FLEXGEN_DISK_TO_CPU, "gpu": DISK_TO_GPU},
        },
        home="cpu",
    )


DEVICE_PRESETS: dict[str, DevicePreset] = {
    p.name: p
    for p in (paper_testbed(4), paper_testbed(7), paper_testbed(2), paper_testbed(1), flexgen_t4())
}


def device_preset(name: str) -> DevicePreset:
    return lookup(DEVICE_PRESETS, name, "--devices: device preset")
