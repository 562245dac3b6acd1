"""``opt-offload flops``: PRADA's FLOP formulas (eqs. 14-16) beside the architecture-exact count."""

from __future__ import annotations

import argparse

from rich.table import Table

from ..costs.configs import TransformerConfig, load_hf_config, preset
from ..costs.flops import (
    decode_flops,
    paper_decode_flops,
    paper_prefill_flops,
    paper_step_flops,
    prefill_flops,
    step_flops,
)
from ..errors import InputError
from .common import console, number


def add_model_arguments(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--model PRESET`` or ``--config config.json`` (shared with ``calibrate``)."""
    group = parser.add_mutually_exclusive_group(required=default is None)
    group.add_argument("--model", default=default, help="a preset: llama2-7b, qwen2.5-math-7b, ...")
    group.add_argument("--config", metavar="PATH", help="a Hugging Face config.json")


def model_config(args: argparse.Namespace) -> TransformerConfig:
    return load_hf_config(args.config) if args.config else preset(args.model)


def positive(name: str, value: int) -> int:
    if value < 1:
        raise InputError(f"{name}: must be a positive integer, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="FLOPs of prefill and decode: the paper's formulas and the architecture count",
        description="FLOPs of one request: PRADA's eqs. (14)-(16) as printed (paper) beside the "
        "architecture-exact count (matrix products at 2 FLOP per multiply-add, as "
        "torch.utils.flop_counter counts them), and their ratio paper / architecture.",
    )
    add_model_arguments(parser)
    tokens = number(1, 10**9, integer=True)
    parser.add_argument("--context", type=tokens, required=True, metavar="M", help="context tokens")
    parser.add_argument("--new", type=tokens, required=True, metavar="N", help="new tokens")
    parser.set_defaults(run=run)


def flop_rows(config: TransformerConfig, m: int, m_new: int) -> list[tuple[str, float, float]]:
    """(what, paper, architecture): the prefill of m tokens (LM head at the last position only),
    one decode token against a cache of m, the m_new decode tokens of a step, and both."""
    o, v = config.hidden_size, config.num_layers
    prefill = prefill_flops(config, m, logits="last")
    step = step_flops(config, m, m_new)
    return [
        ("prefill (14)", paper_prefill_flops(m, o, v), prefill.total),
        ("decode token (15)", paper_decode_flops(m, o, v), decode_flops(config, m).total),
        ("step (16)", paper_step_flops(m, o, v, m_new), step.total),
        (
            "prefill + step",
            paper_prefill_flops(m, o, v) + paper_step_flops(m, o, v, m_new),
            (prefill + step).total,
        ),
    ]


def run(args: argparse.Namespace) -> int:
    m, m_new = positive("--context", args.context), positive("--new", args.new)
    config = model_config(args)
    table = Table(title=f"{config.name}: context m = {m}, new tokens m_new = {m_new}")
    table.add_column("FLOP (eq.)")
    for heading in ("paper", "architecture", "ratio"):
        table.add_column(heading, justify="right")
    for what, paper, architecture in flop_rows(config, m, m_new):
        table.add_row(what, f"{paper:.4g}", f"{architecture:.4g}", f"{paper / architecture:.4f}")
    console.print(table)
    parts = prefill_flops(config, m, logits="last") + step_flops(config, m, m_new)
    console.print(
        f"architecture prefill + step by part: projections {parts.projections:.3g}, "
        f"attention {parts.attention:.3g}, MLP {parts.mlp:.3g}, LM head {parts.lm_head:.3g}"
    )
    return 0
