"""The ``[uncertainty]`` section: the sampling distribution of a fitted scenario's parameters.

`funnelsim calibrate` writes it, so a fitted scenario carries "how sure are we of our own rates"
with it and stays one self-contained file. Each block is a group of keys fitted together from
one factor of the likelihood (a stage's rate and delay, the decay curve, ...): its estimate and
the covariance of the estimate on a transformed scale (logit for rates, log for positive
numbers), where the asymptotic normal approximation holds best. Blocks come from independent
likelihood factors, so they are independent of each other.

    [uncertainty]
    method = "asymptotic normal on the logit/log scale (observed information)"

    [[uncertainty.blocks]]
    name = "marketing.mql"
    keys = ["marketing.mql_rate", "marketing.time_to_mql_days.mean"]
    transforms = ["logit", "log"]
    estimate = [0.22, 7.0]
    covariance = [[1e-4, 0.0], [0.0, 4e-4]]

A key is a dotted path to a number: a plain key (``deals.win_rate``), a field of a distribution
table (``deals.sales_cycle_days.median``), or a channel's field by position
(``arrivals.channels[1].mql_rate``). ``estimate`` is on the scale the scenario writes.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Bounds (the schema's rule: every number, list and text is bounded).
MAX_BLOCKS = 100
MAX_BLOCK_KEYS = 20
MAX_KEY = 200
MAX_TEXT = 1_000
Estimate = Annotated[float, Field(ge=-1e12, le=1e12)]
Key = Annotated[str, Field(max_length=MAX_KEY)]


class UncertaintyBlock(_Model):
    """Keys fitted together, their estimate and its covariance on the transformed scale."""

    name: str = Field(min_length=1, max_length=MAX_KEY)
    keys: tuple[Key, ...] = Field(min_length=1, max_length=MAX_BLOCK_KEYS)
    transforms: tuple[Literal["logit", "log", "identity"], ...] = Field(max_length=MAX_BLOCK_KEYS)
    estimate: tuple[Estimate, ...] = Field(max_length=MAX_BLOCK_KEYS)
    covariance: tuple[Annotated[tuple[Estimate, ...], Field(max_length=MAX_BLOCK_KEYS)], ...] = (
        Field(max_length=MAX_BLOCK_KEYS)
    )

    @model_validator(mode="after")
    def _shapes(self) -> UncertaintyBlock:
        k = len(self.keys)
        if len(self.transforms) != k or len(self.estimate) != k:
            raise ValueError(
                f"block {self.name}: keys, transforms and estimate need one entry per key "
                f"(given {k}, {len(self.transforms)}, {len(self.estimate)})"
            )
        if len(self.covariance) != k or any(len(row) != k for row in self.covariance):
            raise ValueError(f"block {self.name}: covariance must be {k} x {k}")
        cov = np.asarray(self.covariance, float)
        if not np.allclose(cov, cov.T, rtol=1e-6, atol=1e-12):
            raise ValueError(f"block {self.name}: covariance must be symmetric")
        if np.linalg.eigvalsh(cov).min() < -1e-9 * max(1.0, float(np.abs(cov).max())):
            raise ValueError(f"block {self.name}: covariance must be positive semi-definite")
        for key, kind, value in zip(self.keys, self.transforms, self.estimate, strict=True):
            if kind == "logit" and not 0.0 < value < 1.0:
                raise ValueError(f"block {self.name}: {key} is a rate in (0, 1) (given {value})")
            if kind == "log" and not (value > 0.0 and math.isfinite(value)):
                raise ValueError(f"block {self.name}: {key} must be > 0 (given {value})")
        return self


class Uncertainty(_Model):
    """How uncertain the fitted parameters are; used by ``--parameter-uncertainty``."""

    method: str = Field("", max_length=MAX_TEXT)
    source: str = Field(
        "", max_length=MAX_TEXT, description="the export the parameters were fitted from"
    )
    blocks: tuple[UncertaintyBlock, ...] = Field((), max_length=MAX_BLOCKS)

    @model_validator(mode="after")
    def _unique(self) -> Uncertainty:
        names = [b.name for b in self.blocks]
        keys = [k for b in self.blocks for k in b.keys]
        if len(set(names)) != len(names):
            raise ValueError("uncertainty block names must be unique")
        if len(set(keys)) != len(keys):
            raise ValueError("a key may appear in one uncertainty block only")
        return self


def transform(kind: str, x: float | np.ndarray) -> np.ndarray:
    """A value on the block's transformed scale: logit for rates, log for positive numbers."""
    x = np.asarray(x, float)
    if kind == "logit":
        return np.log(x) - np.log1p(-x)
    if kind == "log":
        return np.log(x)
    return x


def inverse(kind: str, y: float | np.ndarray) -> np.ndarray:
    """Back from the transformed scale to the scenario's."""
    y = np.asarray(y, float)
    if kind == "logit":
        return 1.0 / (1.0 + np.exp(-y))
    if kind == "log":
        return np.exp(y)
    return y


def covariance_root(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L L^T = cov (via the eigendecomposition, so a singular one works too)."""
    w, v = np.linalg.eigh(np.asarray(cov, float))
    return v * np.sqrt(np.clip(w, 0.0, None))
