"""Regenerate the bundled `phones.csv` bit for bit from a fixed NumPy seed.

    python -m jaxmc.datasets.generate            # rewrites jaxmc/datasets/phones.csv
    python -m jaxmc.datasets.generate --check    # exit 1 unless the shipped file is reproduced exactly

The data mirror a talk's example of Bayesian regression with measurement error: one row per phone in a
messaging network, its network features, how many messages it sent, and the share of those messages that
were on a topic. See README.md in this folder for the generative story.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240917
N_TRAIN = 1500
N_NEW = 10
FEATURES = ("degree_centrality", "betweenness_centrality", "burstiness", "reciprocity")
COLUMNS = ("phone_id", *FEATURES, "n_messages", "share_on_topic", "share_on_topic_err", "is_new")

# The truth, in units of the training-standardized features: share = BASE + X_std @ COEFS + extra noise.
BASE_SHARE = 0.30
COEFS = {"degree_centrality": 0.040, "betweenness_centrality": 0.015, "burstiness": -0.025,
         "reciprocity": 0.030}
SIGMA_MULT = 1.5        # total residual sd / binomial standard error (overdispersion)
FLOAT_FORMAT = "%.10g"  # 10 significant digits in the CSV

CSV_PATH = Path(__file__).with_name("phones.csv")


def simulate(seed: int = SEED) -> pd.DataFrame:
    """The simulated data set at full float precision (before writing to text)."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_NEW
    degree = rng.beta(2.0, 18.0, size=n)                       # right-skewed, mean 0.1
    betweenness = rng.lognormal(mean=-6.0, sigma=1.0, size=n)  # heavy right tail
    burstiness = 2.0 * rng.beta(5.0, 3.0, size=n) - 1.0        # in (-1, 1), mostly bursty (> 0)
    reciprocity = rng.beta(3.0, 3.0, size=n)
    # hundreds to thousands of messages, more for better connected phones
    log_n = np.log(2000.0) + 0.6 * rng.standard_normal(n) + 2.0 * (degree - 0.1)
    n_messages = np.clip(np.round(np.exp(log_n)), 200, 20000).astype(np.int64)

    features = np.column_stack([degree, betweenness, burstiness, reciprocity])
    train = slice(0, N_TRAIN)
    mean, sd = features[train].mean(axis=0), features[train].std(axis=0)
    z = (features - mean) / sd
    p_lin = BASE_SHARE + z @ np.array([COEFS[f] for f in FEATURES])
    # extra-binomial noise so that the total residual sd is SIGMA_MULT binomial standard errors
    se_true = np.sqrt(p_lin * (1 - p_lin) / n_messages)
    p_true = p_lin + np.sqrt(SIGMA_MULT**2 - 1.0) * se_true * rng.standard_normal(n)
    p_true = np.clip(p_true, 0.01, 0.99)
    k = rng.binomial(n_messages, p_true)

    share = k / n_messages
    err = np.sqrt(share * (1 - share) / n_messages)
    is_new = np.arange(n) >= N_TRAIN
    # new phones: share unknown; their error uses the training mean share
    p_bar = share[~is_new].mean()
    share[is_new] = np.nan
    err[is_new] = np.sqrt(p_bar * (1 - p_bar) / n_messages[is_new])

    df = pd.DataFrame({
        "phone_id": [f"P{i + 1:04d}" for i in range(n)],
        "degree_centrality": degree,
        "betweenness_centrality": betweenness,
        "burstiness": burstiness,
        "reciprocity": reciprocity,
        "n_messages": n_messages,
        "share_on_topic": share,
        "share_on_topic_err": err,
        "is_new": is_new,
    })
    return df


def to_csv_text(df: pd.DataFrame) -> str:
    """The exact text of `phones.csv` for a simulated frame (floats with 10 significant digits)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return buf.getvalue()


def read_csv_text(source) -> pd.DataFrame:
    """Parse `phones.csv` text (a path or a file-like object) with exact float round trip and fixed dtypes."""
    # pandas >= 3 parses floats exactly by default (and deprecates the option); pandas 2 needs round_trip
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    return pd.read_csv(source, dtype={"phone_id": "str", "n_messages": "int64", "is_new": "bool"}, **exact)


def generate(seed: int = SEED) -> pd.DataFrame:
    """The data set as `load_phones()` returns it: simulated, written to CSV text and parsed back."""
    return read_csv_text(io.StringIO(to_csv_text(simulate(seed))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped CSV, write nothing")
    parser.add_argument("--out", type=Path, default=CSV_PATH, help=f"output file (default {CSV_PATH})")
    args = parser.parse_args(argv)
    text = to_csv_text(simulate())
    if args.check:
        same = args.out.exists() and args.out.read_text() == text
        print(f"{args.out}: {'reproduced exactly' if same else 'DIFFERS from the regenerated data'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
