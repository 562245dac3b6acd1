"""``opt-offload bench sparse-attention``: Dynamic Attention Sparsification (003 Sec. 3.2) on
inputs with block structure: kept fraction, error against dense attention and the bound of
eqs. (16)-(19) over a (theta_B, tau) grid, then the measured time of FlexAttention with the DAS
block mask against dense attention, beside the FLOP-based estimate of the speed-up."""

from __future__ import annotations

import argparse

from rich.table import Table

from ..console import console
from . import median_time

KIND = "sparse-attention"
DESCRIPTION = (
    "DAS on block-structured inputs: kept fraction, error and its bound over a (theta_B, tau) "
    "grid; FlexAttention time with the DAS mask against dense attention"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli.common import number, number_list

    _floats = number_list(0, 1)
    # the dense reference holds heads x tokens^2 scores: 8 x 16384^2 float32 is 8.6 GB
    parser.add_argument("--tokens", type=number(1, 16384, integer=True), default=2048)
    parser.add_argument("--heads", type=number(1, 256, integer=True), default=8)
    parser.add_argument("--head-dim", type=number(1, 1024, integer=True), default=64)
    parser.add_argument(
        "--block", type=number(1, 16384, integer=True), default=64, help="block size b"
    )
    parser.add_argument("--theta", type=_floats, default=[0.3, 0.5, 0.7, 0.9], help="theta_B grid")
    parser.add_argument("--tau", type=_floats, default=[0.9, 0.95, 0.99, 1.0], help="tau grid")
    parser.add_argument("--epsilon-pv", type=float, default=1e-3)
    parser.add_argument("--timing", type=_floats, default=[0.5, 0.95], help="theta_B,tau timed")
    parser.add_argument("--no-timing", action="store_true", help="the grid only")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--dtype", default="float32", help="dtype of the timed runs (float32, bfloat16, float16)"
    )
    parser.add_argument("--seed", type=int, default=0)


def grid_table(q, k, v, args: argparse.Namespace) -> Table:
    from ..costs.sparse_attention import das_attention

    table = Table(
        title=f"DAS (float64), N = {args.tokens}, {args.heads} heads, d = {args.head_dim}, "
        f"b = {args.block}, causal, epsilon_pv = {args.epsilon_pv:g}; error and bound "
        "relative to ||SDPA||_F"
    )
    # kept: share of all block products; QK, PV: of the blocks; error, bound: relative to SDPA
    for heading in ("theta_B", "tau", "kept", "QK", "PV", "saved", "error", "bound", "C"):
        table.add_column(heading, justify="right")
    all_within = True
    for theta in args.theta:
        for tau in args.tau:
            result = das_attention(
                q.double(),
                k.double(),
                v.double(),
                block_size=args.block,
                theta_b=theta,
                tau=tau,
                epsilon_pv=args.epsilon_pv,
            )
            blocks = result.pattern.sum() * q.shape[0] * q.shape[1]
            # float64 rounding of the dense products, far below any bound that is not zero
            within = bool((result.row_error <= result.row_bound + 1e-9).all())
            table.add_row(
                f"{theta:g}",
                f"{tau:g}",
                f"{result.kept_fraction:.3f}",
                f"{float(result.block_mask.sum() / blocks):.3f}",
                f"{float(result.value_mask.sum() / blocks):.3f}",
                f"{result.flops_saved / result.flops_dense:.0%}",
                f"{result.error / result.reference_norm:.1e}",
                f"{result.bound / result.reference_norm:.1e}",
                f"{result.proxy_constant:.3g}",
            )
            all_within &= within
    table.caption = f"error <= bound in every block row of every run: {all_within}"
    return table


def _timer(device: str):
    import torch

    def timed(function) -> float:
        def call():
            function()
            if device.startswith("cuda"):
                torch.cuda.synchronize()

        return median_time(call, repeat=5, min_total_s=0.5)

    return timed


def timing_table(q, k, v, args: argparse.Namespace) -> Table:
    """Compiled FlexAttention with the DAS block mask M_g, against compiled FlexAttention with
    the causal mask only (the same kernel, dense) and against SDPA (causal)."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention.flex_attention import flex_attention

    from ..costs.sparse_attention import block_pattern, das_attention, flex_block_mask

    theta, tau = args.timing
    result = das_attention(q, k, v, block_size=args.block, theta_b=theta, tau=tau)
    q, k, v = (x.to(getattr(torch, args.dtype)) for x in (q, k, v))
    blocks = q.shape[2] // args.block
    dense_mask = block_pattern(blocks, blocks, causal=True).to(q.device)
    sparse = flex_block_mask(result.block_mask, args.block)
    dense = flex_block_mask(dense_mask.expand_as(result.block_mask), args.block)
    flex = torch.compile(flex_attention)
    timed = _timer(args.device)
    times = {
        "SDPA, causal": timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
        "FlexAttention, causal (dense)": timed(lambda: flex(q, k, v, block_mask=dense)),
        "FlexAttention, DAS mask M_g": timed(lambda: flex(q, k, v, block_mask=sparse)),
    }
    estimate = float(result.pattern.sum() * q.shape[0] * q.shape[1] / result.block_mask.sum())
    table = Table(
        title=f"time on {args.device} ({args.dtype}), DAS theta_B = {theta:g}, tau = {tau:g} "
        f"(M_g keeps {1 / estimate:.1%} of the blocks: FLOP-based speed-up {estimate:.2f}x)"
    )
    for heading in ("attention", "median ms", "speed-up of DAS"):
        table.add_column(heading, justify="right")
    sparse_time = times["FlexAttention, DAS mask M_g"]
    for name, seconds in times.items():
        table.add_row(name, f"{seconds * 1e3:.2f}", f"{seconds / sparse_time:.2f}x")
    return table


def run(args: argparse.Namespace) -> int:
    import torch

    from ..costs.sparse_attention import block_structured_qkv

    generator = torch.Generator().manual_seed(args.seed)
    q, k, v = (
        x.to(args.device)
        for x in block_structured_qkv(
            1, args.heads, args.tokens, args.head_dim, args.block, generator=generator
        )
    )
    console.print(grid_table(q, k, v, args))
    if not args.no_timing:
        console.print(timing_table(q, k, v, args))
    return 0
