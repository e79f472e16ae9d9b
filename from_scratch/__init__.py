"""from_scratch: a small, fast, honest deep-learning library in NumPy, built chapter by chapter.

    import from_scratch as fs
    from from_scratch import nn, optim, functional as F
"""

# viz imports matplotlib only inside its functions, so `import from_scratch` stays light.
from . import data, datasets, functional, nn, ops, optim, testing, training, utils, viz
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .creation import (
    arange,
    cat,
    maximum,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    where,
    zeros,
    zeros_like,
)
from .environment import check_environment
from .random import default_generator, manual_seed
from .serialization import load, save
from .tensor import Tensor, as_tensor, get_default_dtype, set_default_dtype, tensor

__version__ = "0.1.0"
