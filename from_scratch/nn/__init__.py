"""Neural-network building blocks: `from from_scratch import nn`.

nn.Parameter and nn.Module (module.py), the containers Sequential, ModuleList and ModuleDict
(containers.py), the layers (layers.py), the weight initialisers nn.init (init.py), the loss
modules (loss.py) and nn.utils (clip_grad_norm_).
"""

from . import init, utils
from .containers import ModuleDict, ModuleList, Sequential
from .layers import (
    Dropout,
    Flatten,
    Identity,
    LazyLinear,
    Linear,
    ModelSummary,
    ReLU,
    Sigmoid,
    Tanh,
    summary,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter
