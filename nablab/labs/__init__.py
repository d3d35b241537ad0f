"""The labs of LABS.md: importing this package registers every lab module found beside base.py.

A lab module is named like its lab with underscores (``xor_relu.py`` for ``xor-relu``).
"""

import importlib
import pkgutil

from .base import (
    LABS,
    Lab,
    LabConfig,
    LabResult,
    Table,
    UnknownLabError,
    get_lab,
    register,
    track,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
