"""PyMC's `pm.get_data(filename)`: a data file of the pymc-examples repository, downloaded as PyMC does
(`pd.read_csv(pm.get_data("radon.csv"))`); set JAXMC_PYMC_EXAMPLES_DATA to a local folder to read it there."""

from __future__ import annotations

import io
import os
import urllib.request

BASE_URL = "https://raw.githubusercontent.com/pymc-devs/pymc-examples/main/examples/data/{filename}"

__all__ = ["BASE_URL", "get_data"]


def get_data(filename: str) -> io.BytesIO:
    """The file `filename` of pymc-examples' examples/data folder as a BytesIO (PyMC's `pm.get_data`).

    Read from $JAXMC_PYMC_EXAMPLES_DATA/filename when that folder is set and holds the file, else downloaded."""
    folder = os.environ.get("JAXMC_PYMC_EXAMPLES_DATA")
    if folder and os.path.isfile(os.path.join(folder, filename)):
        with open(os.path.join(folder, filename), "rb") as f:
            return io.BytesIO(f.read())
    url = BASE_URL.format(filename=filename)
    try:
        with urllib.request.urlopen(url, timeout=60) as handle:
            return io.BytesIO(handle.read())
    except OSError as e:
        raise OSError(f"pm.get_data({filename!r}) could not download {url} ({e}); download the file yourself "
                      "and read it with pandas, or set JAXMC_PYMC_EXAMPLES_DATA to a folder that holds it") from e
