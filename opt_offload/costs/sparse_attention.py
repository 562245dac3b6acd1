"""Dynamic Attention Sparsification (DAS; 003 Sec. 3.2 and its error bound, eqs. 12-19).

Attention is cut into b x b blocks (query block i, key block j). Two masks decide which block
products a sparse kernel computes:

- ``M_g`` (adaptive block pruning, eqs. 4-5): a query or key block whose tokens are alike (mean
  pairwise cosine similarity above ``theta_b``) is summarised by its mean; a compressed attention
  map ``P_hat = softmax(Q_hat K_hat^T / sqrt(d))`` over the summaries ranks the key blocks of each
  query block, and the most probable ones are kept until their cumulative mass reaches ``tau``
  (set S_TC). Blocks whose query or key block is not self-similar are always kept (set S_P).
  Where ``M_g = 0`` neither ``Q_i K_j^T`` nor ``P_ij V_j`` is computed.
- ``M_pv`` (online value pruning, eq. 6): key blocks are visited in order, as an online-softmax
  kernel does; ``P_ij V_j`` is skipped when every score of the block is below the running row
  maximum by more than ``-log(epsilon_pv)``, i.e. ``exp(s - m_running) < epsilon_pv`` (the rule
  of SpargeAttn, which 003 cites). Here ``M_pv`` marks the blocks whose ``P_ij V_j`` is computed,
  a subset of ``M_g``.

The output is what such a kernel returns: the softmax is normalised over the blocks whose scores
were computed (``M_g``), and the value-pruned blocks count in the normaliser but not in the sum.
It is computed densely here, as a reference: this module measures masks and errors, it does not
make attention faster (:func:`flex_block_mask` hands ``M_g`` to a kernel that does).

Reading of the error bound (eqs. 12-19), as implemented in :func:`das_attention`:

- Eq. (12) as printed normalises each block separately and sums over query blocks; we read
  ``P = softmax(Q K^T / sqrt(d))`` row-wise over all keys, ``P_ij`` its (i, j) block, and the
  output's block row i as ``sum_j P_ij V_j``.
- Eq. (15) holds per query block row (the cumulative selection is per row of ``P_hat``), so the
  bound of eqs. (16)-(18) bounds each block row of the error; the whole-output Frobenius error is
  bounded by the root sum of squares of the row bounds.
- The constant C of the proxy assumption ``||P_ij||_F <= C ||P_hat_ij||_1`` is not given; we
  measure it from the run as the largest ratio over the pruned blocks (C is about 1 when block
  means summarise their blocks well).
- Eq. (13) keeps the dense ``P_ij`` in the kept blocks, i.e. it drops the pruned probability mass
  without renormalising; its bound (``paper_bound``: ``C V_max (1 - tau) + |S_pv| V_max b
  epsilon_pv`` per block row) applies to that unnormalised output. A kernel renormalises over
  ``M_g``, which adds at most ``sqrt(b) v_row C (1 - tau)`` per block row (``v_row`` the largest
  value-row norm): ``bound`` is the paper's bound plus that term, and holds for ``output``.
- Eq. (17) needs every element of a value-pruned block below ``epsilon_pv``; the online rule
  guarantees it, since ``P = exp(s - m_final) / l <= exp(s - m_running)`` (``l >= 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class DasResult:
    """Masks are (batch, heads, query blocks, key blocks); errors and bounds are Frobenius norms,
    ``row_*`` per query block row (batch, heads, query blocks)."""

    output: torch.Tensor
    block_mask: torch.Tensor  # M_g: Q_i K_j^T computed
    value_mask: torch.Tensor  # M_pv: P_ij V_j computed (within M_g)
    pattern: torch.Tensor  # blocks the attention has at all (lower triangle when causal)
    similar_queries: torch.Tensor  # (batch, heads, query blocks)
    similar_keys: torch.Tensor  # (batch, heads, key blocks)
    flops_dense: float  # both attention products over the pattern's blocks
    flops_kept: float  # the block products computed
    flops_overhead: float  # the compressed map Q_hat K_hat^T
    error: float  # ||output - SDPA||_F
    row_error: torch.Tensor
    bound: float  # eqs. (16)-(19) plus the renormalisation term, for ``output``
    row_bound: torch.Tensor
    unnormalised_error: float  # eq. (13)'s output against SDPA
    paper_bound: float  # eqs. (16)-(19) as printed, for eq. (13)'s output
    proxy_constant: float  # C, measured
    reference_norm: float  # ||SDPA||_F, for relative errors

    @property
    def kept_fraction(self) -> float:
        """Fraction of the attention block products (QK^T and PV) computed."""
        return self.flops_kept / self.flops_dense

    @property
    def flops_saved(self) -> float:
        return self.flops_dense - self.flops_kept - self.flops_overhead


def self_similarity(blocks: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of the tokens of each block, diagonal included
    (SpargeAttn's test): ``||sum of unit vectors||^2 / b^2``. Blocks are (..., n, b, d)."""
    unit = F.normalize(blocks, dim=-1)
    summed = unit.sum(dim=-2)
    return (summed * summed).sum(dim=-1) / blocks.shape[-2] ** 2


def block_pattern(query_blocks: int, key_blocks: int, causal: bool) -> torch.Tensor:
    pattern = torch.ones(query_blocks, key_blocks, dtype=torch.bool)
    return pattern.tril() if causal else pattern


def cumulative_selection(probabilities: torch.Tensor, tau: float) -> torch.Tensor:
    """S_TC: per row, the most probable entries until their cumulative mass reaches tau (at
    least one); every entry when tau >= 1."""
    if tau >= 1.0:
        return torch.ones_like(probabilities, dtype=torch.bool)
    ordered, order = probabilities.sort(dim=-1, descending=True)
    mass_before = ordered.cumsum(dim=-1) - ordered
    keep_ordered = mass_before < tau
    return torch.zeros_like(keep_ordered).scatter(-1, order, keep_ordered)


def compressed_attention(
    q_blocks: torch.Tensor,
    k_blocks: torch.Tensor,
    similar_keys: torch.Tensor,
    pattern: torch.Tensor,
) -> torch.Tensor:
    """Eq. (4): softmax over block means; non-self-similar key blocks and blocks outside the
    pattern get no mass (they are kept, or absent, whatever the map says)."""
    scale = 1.0 / math.sqrt(q_blocks.shape[-1])
    scores = q_blocks.mean(dim=-2) @ k_blocks.mean(dim=-2).transpose(-1, -2) * scale
    ranked = similar_keys.unsqueeze(-2) & pattern
    scores = scores.masked_fill(~ranked, float("-inf"))
    return scores.softmax(dim=-1).nan_to_num(0.0)  # a row with nothing to rank: all zeros


def expand_blocks(mask: torch.Tensor, block_size: int) -> torch.Tensor:
    return mask.repeat_interleave(block_size, dim=-2).repeat_interleave(block_size, dim=-1)


def online_value_mask(
    scores: torch.Tensor, block_mask: torch.Tensor, block_size: int, epsilon_pv: float
) -> torch.Tensor:
    """M_pv: a kept block's ``P_ij V_j`` is skipped when, for every row, its largest score lies
    more than ``-log(epsilon_pv)`` below the row's running maximum over the key blocks visited
    so far (itself included). ``scores`` are masked to -inf outside M_g and the causal triangle."""
    if epsilon_pv <= 0.0:
        return block_mask.clone()
    batch, heads, tokens, keys = scores.shape
    local_max = scores.view(batch, heads, tokens, keys // block_size, block_size).amax(dim=-1)
    running_max = local_max.cummax(dim=-1).values
    gap = (local_max - running_max).nan_to_num(nan=float("-inf"))  # -inf - -inf: nothing seen
    block_gap = gap.view(batch, heads, -1, block_size, gap.shape[-1]).amax(dim=-2)
    return block_mask & (block_gap >= math.log(epsilon_pv))


def block_row_norms(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """Frobenius norm of each block of rows: (B, H, N, d) -> (B, H, N / b)."""
    batch, heads, tokens, width = x.shape
    return x.reshape(batch, heads, tokens // block_size, block_size * width).norm(dim=-1)


def block_frobenius(p: torch.Tensor, block_size: int) -> torch.Tensor:
    """(B, H, N, N) -> (B, H, N / b, N / b): the Frobenius norm of every b x b block."""
    batch, heads, rows, cols = p.shape
    blocks = p.reshape(batch, heads, rows // block_size, block_size, cols // block_size, block_size)
    return blocks.square().sum(dim=(-3, -1)).sqrt()


def das_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    block_size: int = 64,
    theta_b: float = 0.5,
    tau: float = 0.95,
    epsilon_pv: float = 0.0,
    causal: bool = True,
) -> DasResult:
    """DAS on (batch, heads, tokens, head_dim) tensors; K and V may have fewer heads (grouped-
    query attention). Queries and keys have the same length, a multiple of ``block_size``."""
    _check_inputs(q, k, v, block_size, tau, epsilon_pv)
    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    batch, heads, tokens, head_dim = q.shape
    blocks = tokens // block_size
    q_blocks = q.reshape(batch, heads, blocks, block_size, head_dim)
    k_blocks = k.reshape(batch, heads, blocks, block_size, head_dim)
    similar_queries = self_similarity(q_blocks) > theta_b
    similar_keys = self_similarity(k_blocks) > theta_b
    pattern = block_pattern(blocks, blocks, causal).to(q.device)
    compressed = compressed_attention(q_blocks, k_blocks, similar_keys, pattern)
    always = ~similar_queries.unsqueeze(-1) | ~similar_keys.unsqueeze(-2)  # S_P
    block_mask = (cumulative_selection(compressed, tau) | always) & pattern  # eq. (5)

    visible = torch.ones(tokens, tokens, dtype=torch.bool, device=q.device)
    visible = visible.tril() if causal else visible
    scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim)
    kept_scores = scores.masked_fill(
        ~(expand_blocks(block_mask, block_size) & visible), float("-inf")
    )
    value_mask = online_value_mask(kept_scores, block_mask, block_size, epsilon_pv)
    probabilities = kept_scores.softmax(dim=-1) * expand_blocks(value_mask, block_size)
    output = probabilities @ v

    reference = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    dense = scores.double().masked_fill(~visible, float("-inf")).softmax(dim=-1)
    unnormalised = (dense * expand_blocks(value_mask, block_size)) @ v.double()
    row_error = block_row_norms((output - reference).double(), block_size)
    bounds = _error_bounds(
        dense,
        compressed.double(),
        v.double(),
        block_mask,
        value_mask,
        pattern,
        block_size,
        tau,
        epsilon_pv,
    )
    block_product = 2.0 * block_size * block_size * head_dim  # one b x b by b x d product
    return DasResult(
        output=output,
        block_mask=block_mask,
        value_mask=value_mask,
        pattern=pattern,
        similar_queries=similar_queries,
        similar_keys=similar_keys,
        flops_dense=2 * block_product * int(pattern.sum()) * batch * heads,
        flops_kept=block_product * float(block_mask.sum() + value_mask.sum()),
        flops_overhead=2.0 * blocks * blocks * head_dim * batch * heads,
        error=float(row_error.norm()),
        row_error=row_error,
        bound=float(bounds.row_bound.norm()),
        row_bound=bounds.row_bound,
        unnormalised_error=float((unnormalised - reference.double()).norm()),
        paper_bound=float(bounds.row_paper_bound.norm()),
        proxy_constant=bounds.proxy_constant,
        reference_norm=float(reference.double().norm()),
    )


@dataclass(frozen=True)
class _Bounds:
    row_bound: torch.Tensor
    row_paper_bound: torch.Tensor
    proxy_constant: float


def _error_bounds(
    dense: torch.Tensor,
    compressed: torch.Tensor,
    v: torch.Tensor,
    block_mask: torch.Tensor,
    value_mask: torch.Tensor,
    pattern: torch.Tensor,
    block_size: int,
    tau: float,
    epsilon_pv: float,
) -> _Bounds:
    """Per query block row: eq. (16) ``C V_max (1 - tau)`` + eq. (18) ``|S_pv| V_max b eps``,
    and the renormalisation term ``sqrt(b) v_row C (1 - tau)`` (see the module's reading)."""
    pruned_g = pattern & ~block_mask
    pruned_pv = block_mask & ~value_mask
    ratios = block_frobenius(dense, block_size) / compressed  # ||P_ij||_F / ||P_hat_ij||_1
    proxy = float(ratios[pruned_g].max()) if bool(pruned_g.any()) else 0.0
    v_max = block_row_norms(v, block_size).amax(dim=-1, keepdim=True)  # max_j ||V_j||_F
    v_row = v.norm(dim=-1).amax(dim=-1, keepdim=True)
    block_term = proxy * (1.0 - tau)
    paper = block_term * v_max + pruned_pv.sum(dim=-1) * v_max * block_size * epsilon_pv
    renormalisation = math.sqrt(block_size) * v_row * block_term
    return _Bounds(paper + renormalisation, paper, proxy)


def _check_inputs(q, k, v, block_size: int, tau: float, epsilon_pv: float) -> None:
    if q.dim() != 4 or k.dim() != 4 or k.shape != v.shape:
        raise ValueError("q, k, v must be (batch, heads, tokens, head_dim), k and v alike")
    if q.shape[1] % k.shape[1] or q.shape[2] != k.shape[2]:
        raise ValueError("query heads must be a multiple of KV heads; lengths must agree")
    if block_size < 1 or q.shape[2] % block_size:
        raise ValueError(f"the length {q.shape[2]} is not a multiple of block_size {block_size}")
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau must lie in (0, 1], got {tau}")
    if not 0.0 <= epsilon_pv < 1.0:
        raise ValueError(f"epsilon_pv must lie in [0, 1), got {epsilon_pv}")


def flex_block_mask(block_mask: torch.Tensor, block_size: int, *, causal: bool = True):
    """M_g as a FlexAttention ``BlockMask`` (torch >= 2.5): ``flex_attention(q, k, v,
    block_mask=...)`` then skips the pruned blocks for real and returns ``das_attention``'s
    output with ``epsilon_pv = 0`` (value pruning happens inside a kernel's online softmax,
    which a BlockMask cannot express)."""
    try:
        from torch.nn.attention.flex_attention import create_block_mask
    except ImportError as exc:  # torch < 2.5
        raise RuntimeError(f"FlexAttention is not available in torch {torch.__version__}") from exc
    batch, heads, blocks, _ = block_mask.shape
    tokens = blocks * block_size

    def keep(b, h, q_index, kv_index):
        inside = block_mask[b, h, q_index // block_size, kv_index // block_size]
        return inside & (q_index >= kv_index) if causal else inside

    return create_block_mask(
        keep, batch, heads, tokens, tokens, device=block_mask.device, BLOCK_SIZE=block_size
    )


def block_structured_qkv(
    batch: int,
    heads: int,
    tokens: int,
    head_dim: int,
    block_size: int,
    *,
    max_noise: float = 1.5,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs with the structure DAS exploits: the tokens of a block scatter around a centroid
    with a noise level drawn per block from [0, max_noise] (so blocks range from near-copies,
    self-similarity about 1, to noise, about 1 / b), and each query block's centroid is that of
    one earlier key block, so its attention concentrates there. Values are plain noise."""
    blocks = tokens // block_size
    shape = (batch, heads, blocks, 1, head_dim)
    key_centroids = torch.randn(shape, generator=generator)
    earlier = torch.rand(batch, heads, blocks, generator=generator) * torch.arange(1, blocks + 1)
    query_centroids = key_centroids.gather(2, earlier.long()[..., None, None].expand(shape))

    def scatter(centroids: torch.Tensor) -> torch.Tensor:
        noise = max_noise * torch.rand(batch, heads, blocks, 1, 1, generator=generator)
        spread = torch.randn(batch, heads, blocks, block_size, head_dim, generator=generator)
        return (centroids + noise * spread).reshape(batch, heads, tokens, head_dim)

    values = torch.randn(batch, heads, tokens, head_dim, generator=generator)
    return scatter(query_centroids), scatter(key_centroids), values
