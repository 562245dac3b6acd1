"""The learned delay predictor D_psi (PRADA Sec. 4.2.5 and 5.1.1).

The server predicts the computation delay of a request, ``d = TL``, from its context length with
a small network trained offline on execution traces with a mean-squared-error loss. The paper's
D_psi has the advantage network's shape without its FiLM layer: an input BatchNorm, three fully
connected layers (hidden sizes 256 and 512) with two SiLU activations, a scalar output, Adam at
learning rate 5e-5. Two choices of ours, beyond the paper: the input carries the number of new
tokens beside the context length (both as logarithms), and the target is the standardised
logarithm of the delay, so that a 1 ms step and a 1 s step weigh alike in the loss (the error
reported is relative: mean absolute percentage error).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# PRADA Sec. 5.1.1: "trained with Adam and a learning rate of 5e-5".
PAPER_LEARNING_RATE = 5e-5
# PRADA Sec. 5.1.1: fully connected hidden dimensions 256 and 512.
HIDDEN_SIZES = (256, 512)


class DelayNetwork(nn.Module):
    """BatchNorm -> Linear(256) -> SiLU -> Linear(512) -> SiLU -> Linear(1) (PRADA Sec. 5.1.1)."""

    def __init__(self, features: int = 2):
        super().__init__()
        first, second = HIDDEN_SIZES
        self.layers = nn.Sequential(
            nn.BatchNorm1d(features),
            nn.Linear(features, first),
            nn.SiLU(),
            nn.Linear(first, second),
            nn.SiLU(),
            nn.Linear(second, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)


def delay_features(context_tokens, new_tokens) -> torch.Tensor:
    """One row per request: log context length, log number of new tokens."""
    context = torch.as_tensor(np.asarray(context_tokens, dtype=np.float64), dtype=torch.float32)
    new = torch.as_tensor(np.asarray(new_tokens, dtype=np.float64), dtype=torch.float32)
    return torch.stack([context.log(), new.log()], dim=-1)


@dataclass
class DelayPredictor:
    """A trained D_psi with the scale of its target: ``predict_s`` returns seconds."""

    network: DelayNetwork
    log_mean: float
    log_std: float

    def predict_s(self, context_tokens, new_tokens) -> np.ndarray:
        self.network.eval()
        with torch.no_grad():
            standard = self.network(delay_features(context_tokens, new_tokens))
        return np.exp(standard.double().numpy() * self.log_std + self.log_mean)

    def save(self, path: str | os.PathLike, *, flag: str = "--out") -> None:
        """A torch file, written through :func:`opt_offload.io.write_output` (atomically)."""
        import io

        from ..io import write_output

        state = {
            "network": self.network.state_dict(),
            "log_mean": self.log_mean,
            "log_std": self.log_std,
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        write_output(path, buffer.getvalue(), flag=flag)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DelayPredictor:
        state = torch.load(path, weights_only=True)
        network = DelayNetwork()
        network.load_state_dict(state["network"])
        return cls(network.eval(), state["log_mean"], state["log_std"])


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch's CPU operations on ``count`` threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def fit_delay_predictor(
    context_tokens,
    new_tokens,
    seconds,
    *,
    epochs: int = 3000,
    learning_rate: float = PAPER_LEARNING_RATE,
    seed: int = 0,
) -> DelayPredictor:
    """Full-batch Adam on the mean squared error of the standardised log delay."""
    torch.manual_seed(seed)
    x = delay_features(context_tokens, new_tokens)
    log_seconds = torch.as_tensor(np.log(np.asarray(seconds, dtype=np.float64)))
    log_mean, log_std = log_seconds.mean().item(), max(log_seconds.std().item(), 1e-12)
    target = ((log_seconds - log_mean) / log_std).float()
    network = DelayNetwork(features=x.shape[1])
    optimiser = torch.optim.Adam(network.parameters(), lr=learning_rate)
    network.train()
    # A network this small gains nothing from threads, and on a shared 2-core machine their
    # spin-waits made 1500 epochs take 57 s instead of 6 s.
    with torch_threads(1):
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = nn.functional.mse_loss(network(x), target)
            loss.backward()
            optimiser.step()
    return DelayPredictor(network.eval(), log_mean, log_std)


def mean_absolute_percentage_error(predicted, actual) -> float:
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    return float(np.mean(np.abs(predicted - actual) / np.abs(actual)) * 100.0)
