"""Neural-network building blocks: Module, Parameter, layers, losses, init.

from nablab import nn
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
"""

from . import init
from .embedding import Embedding
from .linear import Identity, Linear
from .module import Module
from .parameter import Parameter
