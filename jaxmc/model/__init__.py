"""The model layer: the context stack (`context`), `Model` and its registries (`core`), data (`data`), named
expressions (`named`) and imputation of missing observations (`imputation`)."""

from jaxmc.exceptions import ImputationWarning
from jaxmc.model.context import UNSET, modelcontext
from jaxmc.model.core import Model, ValueVar
from jaxmc.model.data import Data, DataStore, set_data
from jaxmc.model.named import Deterministic, Potential

__all__ = ["Data", "DataStore", "Deterministic", "ImputationWarning", "Model", "Potential", "UNSET", "ValueVar",
           "modelcontext", "set_data"]
