"""Task presets: how long questions, solutions and reasoning steps are (PRADA Sec. 2.1.2, 5.2).

PRADA reports per-dataset results (Table 2) but not the length distributions behind them, so
every length below is an assumption, with its rationale. Lengths are in tokens of the Qwen2.5
tokenizer; each is drawn uniformly on an inclusive integer range.

- gsm8k-like: grade-school word problems of about 45 words (40-120 tokens) solved in 3-9
  sentences of 20-50 tokens, about 210 generated tokens, the size of a Qwen2.5-Math chain of
  thought on GSM8K.
- gaokao-like: Chinese college-entrance maths in English, longer statements (80-240 tokens)
  and solutions of 6-16 steps of 25-47 tokens (about 400 tokens).
- mmlu-stem-like: a multiple-choice question with its four options (80-200 tokens), 5-13
  steps of 30-54 tokens (about 380 tokens).

The solution lengths of the last two are set so that the all-SLM processing delay per task
relative to gsm8k matches Table 2 (5.8 / 3.1 and 5.6 / 3.1): the SLM's step FLOPs are almost
linear in the tokens generated (attention is under 3% at these contexts), so that ratio is
the ratio of mean solution lengths. The absolute level is set by FlopsSLM, calibrated on
gsm8k (:mod:`opt_offload.simulation.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import lookup
from ..prada import TABLE2, Table2Row


@dataclass(frozen=True)
class TaskPreset:
    """Length distributions of one dataset's tasks (inclusive uniform integer ranges)."""

    name: str
    dataset: str  # the row of PRADA Table 2 it stands for
    question_tokens: tuple[int, int]
    steps: tuple[int, int]
    step_tokens: tuple[int, int]

    @property
    def table2(self) -> Table2Row:
        return TABLE2[self.dataset]

    @property
    def mean_generated_tokens(self) -> float:
        return sum(self.steps) / 2 * sum(self.step_tokens) / 2


PRESETS = {
    preset.name: preset
    for preset in (
        TaskPreset("gsm8k", "gsm8k", (40, 120), (3, 9), (20, 50)),
        TaskPreset("gaokao", "gaokao2023en", (80, 240), (6, 16), (25, 47)),
        TaskPreset("mmlu-stem", "mmlu_stem", (80, 200), (5, 13), (30, 54)),
    )
}


def task_preset(name: str) -> TaskPreset:
    return lookup(PRESETS, name, "--preset: task preset")
