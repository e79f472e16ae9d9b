"""Tensor: construction and dtypes, attributes, repr, backward() and its errors, NumPy interop."""

import re

import numpy as np
import pytest

import from_scratch as fs

# --------------------------------------------------------------------------- construction, dtypes


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0, np.array([1.0, 2.0]), [[1, 2.5]]])
def test_floats_default_to_float32(data):
    assert fs.tensor(data).dtype == np.float32
    assert fs.Tensor(data).dtype == np.float32
    assert fs.get_default_dtype() == np.float32


def test_explicit_dtypes_and_float32_arrays_are_kept():
    assert fs.tensor([1.0], dtype=np.float64).dtype == np.float64
    assert fs.tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert fs.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_set_default_dtype_changes_new_tensors_only():
    old = fs.tensor([1.0])
    fs.set_default_dtype(np.float64)
    try:
        assert fs.tensor([1.0]).dtype == np.float64 and fs.zeros(2).dtype == np.float64
        assert old.dtype == np.float32
    finally:
        fs.set_default_dtype(np.float32)
    assert fs.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        fs.set_default_dtype(np.int32)


def test_ints_and_bools_stay_what_they_are():
    assert fs.tensor([1, 2]).dtype == np.int64
    assert fs.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert fs.tensor([True, False]).dtype == np.bool_


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        fs.tensor([1, 2], requires_grad=True)
    t = fs.tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True


@pytest.mark.parametrize("data", [np.array(["a", "b"]), [1 + 2j], np.array([object()]),
                                  np.array([1.0], dtype=np.complex64)])
def test_strings_objects_complex_are_rejected_clearly(data):
    with pytest.raises(TypeError, match="strings, objects and complex numbers are not supported"):
        fs.tensor(data)


def test_unsupported_explicit_dtype_is_rejected():
    with pytest.raises(TypeError, match="unsupported dtype"):
        fs.tensor([1.0], dtype=np.complex128)


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = fs.tensor(a)
    a[0] = 100.0
    assert t.data[0] == 1.0


# --------------------------------------------------------------------------- attributes


def test_attributes():
    t = fs.tensor(np.zeros((2, 3)), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.numel() == 6 and len(t) == 2
    assert t.is_leaf and t.grad_fn is None and t.grad is None and t.requires_grad
    u = t * 2
    assert not u.is_leaf and type(u.grad_fn).__name__ == "Mul" and u.requires_grad
    with pytest.raises(TypeError, match="0-d"):
        len(fs.tensor(1.0))


def test_misspelled_attribute_raises():
    t = fs.tensor([1.0])
    with pytest.raises(AttributeError):
        t.gard  # noqa: B018
    with pytest.raises(AttributeError):
        t.gard = 1  # __slots__: a typo cannot silently create a new attribute


def test_requires_grad_of_a_non_leaf_cannot_be_switched_off():
    u = fs.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        u.requires_grad = False


def test_item_numpy_tolist_detach():
    t = fs.tensor([[2.5]], requires_grad=True)
    assert t.item() == 2.5 and type(t.item()) is float
    assert type(fs.tensor(3).item()) is int
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        fs.tensor([1.0, 2.0]).item()
    arr = t.numpy()
    assert isinstance(arr, np.ndarray) and np.shares_memory(arr, t.data)
    assert fs.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    d = (t * 3).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None and d.item() == 7.5


def test_detached_value_gets_no_gradient():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    (x.detach() * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])   # not 2x: detach is a constant


def test_astype_copies_outside_the_graph():
    x = fs.tensor([1.5], requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and not y.requires_grad


def test_comparisons_are_boolean_and_outside_the_graph():
    x = fs.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype == np.bool_ and not r.requires_grad
    assert (x == fs.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert len({x, x, fs.tensor([1.0])}) == 2         # hash by identity
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 0)
    assert bool(fs.tensor([1.0]) > 0)


# --------------------------------------------------------------------------- repr


def test_repr_looks_like_pytorch_and_has_no_addresses():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward>)"
    assert repr(fs.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(fs.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert repr(fs.tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"
    for r in (repr(x), repr(x * 2), repr((x * 2).grad_fn), str(x)):
        assert not re.search(r"0x[0-9a-f]+|id=", r), r


# --------------------------------------------------------------------------- backward()


def test_backward_on_non_scalar_without_grad_explains_what_to_do():
    y = fs.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError) as info:
        y.backward()
    msg = str(info.value)
    assert "only works on a scalar" in msg and "(2,)" in msg and ".sum().backward()" in msg


def test_backward_on_tensor_not_requiring_grad_explains_what_to_do():
    with pytest.raises(RuntimeError) as info:
        (fs.tensor([1.0]) * 2).sum().backward()
    assert "does not require grad" in str(info.value)
    assert "requires_grad=True" in str(info.value) and "no_grad" in str(info.value)


def test_backward_with_wrong_grad_shape_names_both_shapes():
    y = fs.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError) as info:
        y.backward(np.ones(3))
    assert "(3,)" in str(info.value) and "(2,)" in str(info.value)


def test_backward_with_explicit_grad_on_non_scalar():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(fs.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 40.0])
    assert x.grad.dtype == np.float32


def test_backward_on_a_one_element_tensor_and_on_a_leaf():
    x = fs.tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    np.testing.assert_allclose(x.grad, [[6.0]])
    x.backward()
    np.testing.assert_allclose(x.grad, [[7.0]])


def test_leaf_grad_is_a_private_writable_copy():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    g = np.ones(2, dtype=np.float32)
    (x + 0.0).backward(g)
    x.grad += 1.0                                     # in-place update of the grad is allowed
    np.testing.assert_array_equal(g, [1.0, 1.0])      # ... and does not touch our array
    y = fs.tensor(np.ones((2, 2)), requires_grad=True)
    y.sum().backward()                                # Sum's backward is a read-only view
    y.grad *= 2
    np.testing.assert_array_equal(y.grad, 2 * np.ones((2, 2)))


def test_retain_grad_and_zero_grad():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    other = x * 2
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    assert other.grad is None                          # non-leaves keep no grad by default
    x.zero_grad()
    assert x.grad is None


# --------------------------------------------------------------------------- NumPy interop


def test_ndarray_op_tensor_returns_a_tensor_with_the_right_order():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([10.0, 20.0])
    for out, expected in [(a * x, [10, 40]), (a + x, [11, 22]), (a - x, [9, 18]),
                          (a / x, [10, 10]), (a**x, [10, 400]), (np.float64(3.0) * x, [3, 6])]:
        assert isinstance(out, fs.Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, expected, rtol=1e-6)
        assert out.dtype == np.float32
    assert fs.Tensor.__array_ufunc__ is None


def test_np_asarray_of_a_tensor_gives_its_data():
    t = fs.tensor([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
