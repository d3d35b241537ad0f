"""The labs of nablab: each an experiment from the seeds, declared with its parameters,
claims and published figures, and run by one runner.

    import nablab.labs as labs
    result = labs.run("xor-relu", quick=True, hidden=[2, 20])
    result.claims          # [{'text': ..., 'holds': True, 'numbers': {...}}, ...]

Importing this package registers every lab module found beside the framework modules
(a lab module is named like its lab with underscores: ``xor_relu.py`` for ``xor-relu``).
"""

import importlib
import pkgutil

from .base import LabResult, Table, spread, track
from .declaration import (
    LABS,
    Claim,
    Lab,
    Metric,
    Outcome,
    Published,
    UnknownLabError,
    get_lab,
    lab,
)
from .params import Param, ParameterError, Params
from .runner import Context, default_out, run

_FRAMEWORK = {"base", "declaration", "display", "params", "runner", "training", "recipes"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _FRAMEWORK and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
