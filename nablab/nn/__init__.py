"""Neural-network building blocks: Module, Parameter, layers, losses, init.

from nablab import nn
import nablab.nn.functional as F
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
loss = nn.BCEWithLogitsLoss()(model(x), y) + 1e-3 * nn.l2_penalty(model)
"""

from . import functional, init, utils
from .activation import LAYERS, LogSoftmax, Softmax
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, LazyLinear, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter
from .regularization import l1_penalty, l2_penalty
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

# ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus: one layer per entry of nablab.activations
globals().update(LAYERS)
