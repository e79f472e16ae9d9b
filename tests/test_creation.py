"""Making tensors (zeros, randn, arange, ...) and combining them (cat, stack, where, maximum)."""

import numpy as np
import pytest

import from_scratch as fs
from from_scratch.testing import gradcheck

RNG = np.random.default_rng(1)


def t64(a, requires_grad: bool = False) -> fs.Tensor:
    return fs.tensor(a, requires_grad=requires_grad, dtype=np.float64)


# --------------------------------------------------------------------------- factories


@pytest.mark.parametrize("make, value", [(fs.zeros, 0.0), (fs.ones, 1.0)])
def test_zeros_ones(make, value):
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32 and np.all(t.data == value)
    assert make(2, requires_grad=True).requires_grad
    assert make(2, dtype=np.float64).dtype == np.float64
    assert make(()).shape == ()


def test_zeros_like_ones_like_keep_shape_and_dtype():
    a = fs.tensor(np.ones((2, 2)), dtype=np.float64)
    z, o = fs.zeros_like(a), fs.ones_like(a, requires_grad=True)
    assert z.shape == o.shape == (2, 2) and z.dtype == o.dtype == np.float64
    assert np.all(z.data == 0) and np.all(o.data == 1) and o.requires_grad


def test_randn_and_rand_are_reproducible_and_float32():
    fs.manual_seed(123)
    a, u = fs.randn(1000), fs.rand(1000)
    fs.manual_seed(123)
    b, v = fs.randn(1000), fs.rand(1000)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(u.data, v.data)
    assert a.dtype == u.dtype == np.float32
    assert fs.randn(2, 3, dtype=np.float64).dtype == np.float64
    assert fs.rand((2, 3), requires_grad=True).requires_grad


def test_randn_and_rand_have_the_right_distributions():
    fs.manual_seed(0)
    z, u = fs.randn(20_000).data, fs.rand(20_000).data
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03    # ~4 standard errors
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01


def test_manual_seed_validates_and_returns_the_generator():
    gen = fs.manual_seed(5)
    assert gen is fs.default_generator() and isinstance(gen, np.random.Generator)
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="non-negative integer"):
            fs.manual_seed(bad)


def test_arange():
    assert fs.arange(5).tolist() == [0, 1, 2, 3, 4] and fs.arange(5).dtype == np.int64
    f = fs.arange(0.0, 1.0, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert fs.arange(3, dtype=np.float64).dtype == np.float64


# --------------------------------------------------------------------------- cat and stack


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_forward_and_backward(axis):
    xs = [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]
    xs[1] = xs[1][:1] if axis == 0 else xs[1][:, :1]          # unequal sizes along the axis
    out = fs.cat([t64(x) for x in xs], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(xs, axis=axis))
    np.testing.assert_array_equal(fs.cat([t64(x) for x in xs], dim=axis).data, out.data)
    assert gradcheck(lambda *ts: fs.cat(ts, axis=axis), *xs)


def test_cat_accepts_arrays_and_a_generator_and_keeps_float32():
    x = fs.tensor([[1.0, 2.0]], requires_grad=True)
    out = fs.cat(t for t in [x, np.array([[3.0, 4.0]])])
    assert out.dtype == np.float32 and out.tolist() == [[1, 2], [3, 4]]
    out.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0]]


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_forward_and_backward(axis):
    xs = [RNG.normal(size=(2, 3)) for _ in range(3)]
    out = fs.stack([t64(x) for x in xs], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(xs, axis=axis))
    np.testing.assert_array_equal(fs.stack([t64(x) for x in xs], dim=axis).data, out.data)
    assert gradcheck(lambda *ts: fs.stack(ts, axis=axis), *xs)


def test_cat_and_stack_errors():
    with pytest.raises(ValueError, match="at least one"):
        fs.cat([])
    with pytest.raises(ValueError, match="at least one"):
        fs.stack([])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        fs.stack([fs.ones(2), fs.ones(3)])


# --------------------------------------------------------------------------- where and maximum


def test_where_forward_and_backward_with_broadcasting():
    cond = np.array([[True, False, True]])
    x, y = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 1))
    out = fs.where(cond, t64(x), t64(y))
    np.testing.assert_array_equal(out.data, np.where(cond, x, y))
    assert gradcheck(lambda a, b: fs.where(cond, a, b), x, y)
    a = t64(x, requires_grad=True)
    fs.where(fs.tensor(cond), a, 0.0).sum().backward()          # a Tensor condition, a scalar
    np.testing.assert_array_equal(a.grad, np.broadcast_to(cond, (2, 3)).astype(float))


def test_where_with_scalars_on_both_sides_and_float32():
    x = fs.tensor([-1.0, 2.0], requires_grad=True)
    assert fs.where(x > 0, x, 0.0).dtype == np.float32
    assert fs.where(x > 0, 1.0, -1.0).tolist() == [-1.0, 1.0]


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="boolean condition"):
        fs.where(np.array([1, 0]), fs.ones(2), fs.zeros(2))


def test_maximum_forward_backward_and_ties_split():
    a = t64([1.0, 2.0, 3.0], requires_grad=True)
    b = t64([3.0, 2.0, 1.0], requires_grad=True)
    out = fs.maximum(a, b)
    np.testing.assert_array_equal(out.data, [3.0, 2.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])
    x = RNG.normal(size=(2, 3))
    assert gradcheck(lambda t: fs.maximum(t, 0.1), x)
    assert gradcheck(lambda t: fs.maximum(0.1, t), x)
    assert gradcheck(fs.maximum, x, RNG.normal(size=(3,)))


def test_maximum_with_a_scalar_keeps_float32():
    x = fs.tensor([-1.0, 2.0], requires_grad=True)
    out = fs.maximum(x, 0)
    assert out.dtype == np.float32 and out.tolist() == [0.0, 2.0]
    out.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.0, 1.0]
