"""The quality SURROGATE: per-task success probabilities and per-step value gains (design §8).

PRADA measures accuracy with real models and a PRM; a simulation has neither, so quality is a
surrogate, calibrated only in expectation to Table 2, and every output that shows it says so.

For each task i:

- the SLM alone solves it with probability ``s_i ~ Beta(k m_s, k (1 - m_s))``, mean ``m_s`` =
  Table 2's all-SLM accuracy;
- the LLM alone with ``l_i = s_i + (1 - s_i) h_i >= s_i``, ``h_i ~ Beta(k m_h, k (1 - m_h))``
  independent of ``s_i`` with ``m_h = (m_l - m_s) / (1 - m_s)``, so that ``E[l_i] = m_l``, the
  LLM-side accuracy (Table 2's pi_theta column: :attr:`opt_offload.prada.Table2Row.
  llm_side_accuracy`);
- the gap ``l_i - s_i`` is split over the task's K_i steps by ``Dirichlet(a, ..., a)``: the
  value gain ``g_ik`` of running step k on the LLM;
- the task's accuracy is ``s_i`` plus the gains of its offloaded steps.

So all-local scores ``s_i`` and all-server ``l_i``: Table 2's two figures, in expectation.
Assumptions: ``k = 2`` (a U-shaped spread: most problems are either easy or hard for a
model), ``a = 0.5`` (a few steps of a solution carry most of what the LLM adds, the premise of
step-level routing). The scheduler is given these gains as its value estimates: an oracle in
place of PRADA's learned advantage predictor A_omega (eq. 33).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..prada import Table2Row

TASK_CONCENTRATION = 2.0  # k: Beta concentration of s_i and h_i (assumption)
STEP_CONCENTRATION = 0.5  # a: Dirichlet parameter of the split over steps (assumption)


@dataclass(frozen=True)
class QualitySurrogate:
    slm_accuracy: float
    llm_accuracy: float
    task_concentration: float = TASK_CONCENTRATION
    step_concentration: float = STEP_CONCENTRATION

    @classmethod
    def of(cls, row: Table2Row) -> QualitySurrogate:
        """Calibrated to one dataset of Table 2 (the LLM side: the pi_theta column)."""
        return cls(row.slm_accuracy, row.llm_side_accuracy)

    @property
    def mean_headroom_share(self) -> float:
        """m_h: the mean share of the SLM's failure probability that the LLM recovers."""
        return (self.llm_accuracy - self.slm_accuracy) / (1.0 - self.slm_accuracy)

    def draw(self, steps: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``s_i`` per task and ``g_ik`` per step (tasks' steps concatenated in order)."""
        k = self.task_concentration
        slm = rng.beta(k * self.slm_accuracy, k * (1.0 - self.slm_accuracy), size=len(steps))
        share = self.mean_headroom_share
        recovered = rng.beta(k * share, k * (1.0 - share), size=len(steps))
        gap = (1.0 - slm) * recovered
        weights = rng.gamma(self.step_concentration, size=int(steps.sum()))
        starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
        totals = np.add.reduceat(weights, starts)
        task = np.repeat(np.arange(len(steps)), steps)
        return slm, gap[task] * weights / totals[task]
