"""Shared pydantic configuration and field types for instances and solutions (design §9).

Every model is frozen (instances are immutable once validated), rejects unknown fields, and
rejects NaN and infinities. Numbers carry physical ranges (the types below), wide enough for any
real system and narrow enough that every product a model or solver forms stays finite: what
validates also solves. Cross-field checks collect *all* problems and raise them together,
one ``path: message`` line each, so that a user sees every mistake of a file at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

MODEL_CONFIG = ConfigDict(
    extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=False, defer_build=True
)

# Identifiers are non-empty strings without surrounding white space.
Identifier = Annotated[str, Field(min_length=1, pattern=r"^\S(.*\S)?$")]

# Physical ranges (docs/robustness.md).
Seconds = Annotated[float, Field(ge=0, le=1e9)]  # up to ~30 years
PositiveSeconds = Annotated[float, Field(gt=0, le=1e9)]
Decibels = Annotated[float, Field(ge=-200, le=200)]
BandwidthHz = Annotated[float, Field(ge=1, le=1e15)]  # >= 1 Hz: uploads take finite time
BytesPerSecond = Annotated[float, Field(ge=1, le=1e15)]
Bytes = Annotated[float, Field(ge=0, le=1e18)]
PositiveBytes = Annotated[float, Field(ge=1, le=1e18)]
Flop = Annotated[float, Field(ge=0, le=1e24)]
FlopPerSecond = Annotated[float, Field(ge=1, le=1e21)]
Gigabytes = Annotated[float, Field(ge=0, le=1e9)]
PositiveGigabytes = Annotated[float, Field(gt=0, le=1e9)]
Weight = Annotated[float, Field(ge=0, le=1e6)]  # objective weights and beta, per unit
Gain = Annotated[float, Field(ge=-1e6, le=1e6)]
Tokens = Annotated[int, Field(ge=1, le=10**9)]
Count = Annotated[int, Field(ge=1, le=10**6)]


class Strict(BaseModel):
    """Base of every schema model."""

    model_config = MODEL_CONFIG


def duplicate_problems(path: str, ids: Iterable[str]) -> list[str]:
    """One problem line per id that occurs more than once in the list at ``path``."""
    ids = list(ids)
    counts = Counter(ids)
    seen: set[str] = set()
    problems = []
    for index, ident in enumerate(ids):
        if counts[ident] > 1 and ident in seen:
            problems.append(f"{path}[{index}].id: duplicate id {ident!r}")
        seen.add(ident)
    return problems


CROSS_FIELD = "cross_field"


def raise_problems(problems: list[str]) -> None:
    """Raise the collected cross-field problems together, one ``path: message`` per line.

    The paths are relative to the model that raises; ``opt_offload.io`` prefixes the location
    of that model in the file.
    """
    if problems:
        raise PydanticCustomError(CROSS_FIELD, "{problems}", {"problems": "\n".join(problems)})
