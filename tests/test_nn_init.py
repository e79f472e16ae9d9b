"""Tests of the weight initialisers (from_scratch/nn/init.py).

The statistical checks draw 65,536 values with a fixed seed; the standard deviation of a
sample that size is within about 0.3 % of the true one, so a 3 % tolerance cannot flake and
still catches a wrong fan or gain (those are off by 30 % or more).
"""

import math

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn
from from_scratch.nn import init
from from_scratch.nn.init import _calculate_fan_in_and_fan_out


def weight(shape=(256, 256), dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype), dtype=dtype)


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("conv2d", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)),
])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)))


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'.*relu"):
        init.calculate_gain("gelu")


def test_fans_follow_pytorch_conventions():
    assert _calculate_fan_in_and_fan_out(weight((128, 784))) == (784, 128)
    assert _calculate_fan_in_and_fan_out(weight((16, 3, 5, 5))) == (75, 400)  # conv kernels
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\(10,\)"):
        init.kaiming_uniform_(weight((10,)))


@pytest.mark.parametrize("fn, std", [
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 256)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 256)),
    (lambda w: init.kaiming_normal_(w), math.sqrt(2 / 256)),  # leaky_relu with a=0
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(3 * 256)),
    (lambda w: init.xavier_uniform_(w), math.sqrt(2 / (256 + 256))),
    (lambda w: init.xavier_normal_(w, gain=5 / 3), 5 / 3 * math.sqrt(2 / 512)),
    (lambda w: init.normal_(w, 0.0, 0.02), 0.02),
])
def test_initialisers_have_the_right_standard_deviation(fn, std):
    fs.manual_seed(0)
    w = weight()
    assert fn(w) is w  # returns the tensor
    assert w.dtype == np.float32
    assert abs(w.data.mean()) < 0.05 * std
    np.testing.assert_allclose(w.data.std(), std, rtol=0.03)


def test_mode_fan_out_uses_the_number_of_outputs():
    fs.manual_seed(0)
    w = init.kaiming_normal_(weight((512, 128)), mode="fan_out", nonlinearity="relu")
    np.testing.assert_allclose(w.data.std(), math.sqrt(2 / 512), rtol=0.03)
    with pytest.raises(ValueError, match="mode must be 'fan_in'.*'fan_out'.*got 'fan_avg'"):
        init.kaiming_normal_(weight(), mode="fan_avg")


def test_uniform_bounds():
    fs.manual_seed(0)
    w = init.kaiming_uniform_(weight((100, 300)), nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    u = init.uniform_(weight((1000,)), -2.0, 3.0)
    assert u.data.min() >= -2.0 and u.data.max() < 3.0 and u.data.max() > 2.9
    x = init.xavier_uniform_(weight((20, 30)))
    assert np.abs(x.data).max() <= math.sqrt(6 / 50)


def test_constant_initialisers_and_in_place_modification():
    w = weight((3, 4))
    array = w.data
    init.ones_(w)
    assert w.data is array and np.all(w.data == 1)
    init.zeros_(w)
    assert np.all(w.data == 0)
    init.normal_(w, mean=5.0, std=0.0)
    assert np.all(w.data == 5.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    for fn in (init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_,
               init.xavier_normal_, init.normal_, init.uniform_, init.zeros_, init.ones_):
        w = weight((8, 8), dtype=dtype)
        assert fn(w).dtype == dtype, fn.__name__
    lin = nn.Linear(5, 5, dtype=dtype)
    init.kaiming_normal_(lin.weight, nonlinearity="relu")
    assert lin.weight.dtype == dtype and lin(np.ones((1, 5))).dtype == dtype


def test_initialisers_use_the_library_generator():
    fs.manual_seed(7)
    a = init.kaiming_normal_(weight((4, 4))).data.copy()
    fs.manual_seed(7)
    b = init.kaiming_normal_(weight((4, 4))).data.copy()
    c = init.kaiming_normal_(weight((4, 4))).data.copy()
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)
    own = init.normal_(weight((4, 4)), generator=np.random.default_rng(7)).data
    assert np.all(own == np.random.default_rng(7).standard_normal((4, 4), dtype=np.float32))


def test_refuses_integer_tensors_and_non_tensors():
    with pytest.raises(TypeError, match="float32 or float64 tensors, this one is int64"):
        init.normal_(fs.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="got list"):
        init.zeros_([1.0, 2.0])


def test_zero_element_tensor_is_a_no_op():
    w = weight((0, 5))
    assert init.kaiming_uniform_(w) is w and w.shape == (0, 5)
