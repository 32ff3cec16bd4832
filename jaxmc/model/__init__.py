"""The model layer: the context stack (`context`), `Model` and its registries (`core`, sub-models in `nesting`),
data (`data`), named expressions (`named`), imputation (`imputation`), value variables and the symbolic log
density (`values`, `symbolic`, `functions`), copies and `pm.do`/`pm.observe` (`clone`, `conditioning`)."""

from jaxmc.exceptions import ImputationWarning
from jaxmc.model.context import UNSET, modelcontext
from jaxmc.model.conditioning import do, observe
from jaxmc.model.core import Model, ValueVar
from jaxmc.model.functions import model_compile_fn as compile_fn
from jaxmc.model.data import Data, DataStore, set_data
from jaxmc.model.named import Deterministic, Potential

__all__ = ["Data", "DataStore", "Deterministic", "ImputationWarning", "Model", "Potential", "UNSET", "ValueVar",
           "compile_fn", "do", "modelcontext", "observe", "set_data"]
