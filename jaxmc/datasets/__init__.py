"""Bundled example data sets.

    from jaxmc.datasets import load_phones, phones_arrays

`load_phones()` returns the phones data set of the demo (`python -m jaxmc.demo`) as a DataFrame;
`phones_arrays()` returns it ready for the flagship regression model. See README.md in this folder.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

from jaxmc.datasets.generate import COLUMNS, FEATURES, read_csv_text

__all__ = ["load_phones", "phones_arrays", "PhonesArrays", "FEATURES", "COLUMNS"]


def load_phones() -> pd.DataFrame:
    """The phones data set: one row per phone, 1500 training phones then 10 new ones (`is_new`).

    Columns: phone_id (str), degree_centrality, betweenness_centrality, burstiness, reciprocity (float64),
    n_messages (int64), share_on_topic (float64, NaN for new phones), share_on_topic_err (float64: the
    binomial standard error sqrt(p (1 - p) / n_messages); for new phones p is the training mean share),
    is_new (bool).
    """
    with resources.files("jaxmc.datasets").joinpath("phones.csv").open("r") as f:
        return read_csv_text(f)


class PhonesArrays(NamedTuple):
    """The phones data as arrays for the flagship model (features standardized with training mean/sd)."""

    X: np.ndarray          # (1500, 4) standardized features of the training phones
    y: np.ndarray          # (1500,) share of messages on topic
    y_err: np.ndarray      # (1500,) its binomial standard error
    features: list         # the 4 feature names (the "M" coords)
    ids: np.ndarray        # (1500,) training phone ids (the "N" coords)
    X_new: np.ndarray      # (10, 4) new phones' features, standardized with the training mean/sd
    err_new: np.ndarray    # (10,) new phones' standard errors (from n_messages and the training mean share)
    new_ids: np.ndarray    # (10,) new phone ids
    mean: np.ndarray       # (4,) training feature means used to standardize
    sd: np.ndarray         # (4,) training feature standard deviations (ddof=0)


def phones_arrays(df: pd.DataFrame | None = None) -> PhonesArrays:
    """Split and standardize the phones data (default: `load_phones()`) for the regression model."""
    df = load_phones() if df is None else df
    features = list(FEATURES)
    train, new = df[~df["is_new"]], df[df["is_new"]]
    raw = train[features].to_numpy(np.float64)
    mean, sd = raw.mean(axis=0), raw.std(axis=0)
    return PhonesArrays(
        X=(raw - mean) / sd,
        y=train["share_on_topic"].to_numpy(np.float64),
        y_err=train["share_on_topic_err"].to_numpy(np.float64),
        features=features,
        ids=train["phone_id"].to_numpy(str),
        X_new=(new[features].to_numpy(np.float64) - mean) / sd,
        err_new=new["share_on_topic_err"].to_numpy(np.float64),
        new_ids=new["phone_id"].to_numpy(str),
        mean=mean,
        sd=sd,
    )
