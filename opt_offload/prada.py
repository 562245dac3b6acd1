"""PRADA's published settings (Tables 2 and 3, Sec. 5) and the assumptions that the admission
generator and the dynamic simulation share, each defined once here.

Every number cites the paper (000_4bb7c4c0c3703881.txt) or says it is an assumption.
FlopsLLM lives with the latency model (:data:`opt_offload.costs.latency.FLOPS_LLM`) and K_max
with the admission solvers (:data:`opt_offload.solvers.admission.common.K_MAX`).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Table 3 -----------------------------------------------------------------------------------
CAPACITY = 9  # M, maximum parallel capacity of the server
TABLE3_BANDWIDTH_HZ = 4e7  # B, "bit/s" in the table, used as Hz in eq. (4) (design §3)
ARRIVAL_RATE = 3.0  # lambda, new tasks per slot (eq. 1)
SLOT_S = 1e-3  # Delta t, the slot length

# --- Sec. 5: the model pair ----------------------------------------------------------------------
EDGE_MODEL = "qwen2.5-math-1.5b"  # the SLM, Qwen2.5-Math-1.5B-Instruct
SERVER_MODEL = "qwen2.5-math-7b"  # the LLM, Qwen2.5-Math-7B-Instruct

# --- Sec. 2.2.1: the uplink ----------------------------------------------------------------------
BITS_PER_TOKEN = 32  # eq. (25): 32 L bits per context
SNR_THRESHOLD_DB = 0.0  # gamma_th; assumption (PRADA gives no value): no upload below 0 dB
MEAN_SNR_DB = 10.0  # assumption: mean SNR of the Rayleigh draws, a typical cell-edge-to-centre mix


# --- Table 2 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table2Row:
    """One dataset of PRADA Table 2: accuracies (fractions) and delays (ms per task).

    Table 2 has no all-LLM column; its columns are All SLM, pi_theta and PRADA. The pi_theta
    column is the single-user policy of Sec. 5.1, which lies close to the all-LLM bound, and it
    is the reading this package takes for the LLM-side accuracy (:attr:`llm_side_accuracy`).
    """

    slm_accuracy: float
    pi_theta_accuracy: float
    prada_accuracy: float
    slm_processing_ms: float
    pi_theta_processing_ms: float
    prada_processing_ms: float
    prada_communication_ms: float
    prada_queuing_ms: float

    @property
    def llm_side_accuracy(self) -> float:
        return self.pi_theta_accuracy

    @property
    def accuracy_gap(self) -> float:
        """What the LLM adds over the SLM on a task, on average (the reading above)."""
        return self.llm_side_accuracy - self.slm_accuracy


TABLE2 = {
    "gsm8k": Table2Row(0.852, 0.939, 0.903, 3.1, 9.9, 6.0, 0.4, 2.5),
    "gaokao2023en": Table2Row(0.662, 0.681, 0.673, 5.8, 22.5, 11.7, 0.6, 3.2),
    "mmlu_stem": Table2Row(0.593, 0.704, 0.652, 5.6, 15.3, 8.9, 0.7, 3.8),
}
