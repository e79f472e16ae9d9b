"""The engine's shortcuts (issue 6, performance) must never change what a user sees.

Each fast path skips work only when it is safe: a leaf may keep a gradient array without a
copy only if nothing else holds it; x[index] skips the graph node only when no gradient is
wanted; nn.Linear checks its input once and reads its parameters directly.
"""

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import functional as F
from from_scratch import nn, ops, optim


def _all_grads_distinct(*tensors):
    grads = [t.grad for t in tensors]
    for i, a in enumerate(grads):
        for b in grads[i + 1:]:
            assert not np.shares_memory(a, b)


def test_leaf_grad_never_aliases_the_users_gradient_array():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    g = np.array([3.0, 4.0], dtype=np.float32)
    x.backward(g)
    assert not np.shares_memory(x.grad, g)
    g[:] = 0
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    (x * 1.0).backward(g + 1)  # accumulates into x.grad, never into the argument
    np.testing.assert_array_equal(x.grad, [4.0, 5.0])


def test_a_gradient_array_is_never_shared_by_two_tensors():
    a = fs.tensor(np.ones((2, 3)), requires_grad=True)
    b = fs.tensor(np.ones((2, 3)), requires_grad=True)
    (a + b).sum().backward()  # Add passes the same array on to both inputs
    _all_grads_distinct(a, b)
    a.grad += 1
    np.testing.assert_array_equal(b.grad, np.ones((2, 3)))

    x = fs.tensor(np.ones((4, 3)), requires_grad=True)
    w = fs.tensor(np.ones((2, 3)), requires_grad=True)
    bias = fs.tensor(np.zeros(2), requires_grad=True)
    y = F.linear(x, w, bias)
    y.retain_grad()
    y.sum().backward()
    _all_grads_distinct(x, w, bias, y)


def test_linear_gradients_are_kept_uncopied_but_each_leaf_owns_its_own():
    x = fs.tensor(np.random.default_rng(0).normal(size=(5, 3)))
    lin = nn.Linear(3, 2)
    lin(x).sum().backward()
    w_grad = lin.weight.grad
    assert w_grad.dtype == lin.weight.dtype and w_grad.flags.writeable
    np.testing.assert_allclose(w_grad, np.ones((2, 5)) @ x.data, rtol=1e-6)
    # A second backward adds into the same array, as without the shortcut.
    lin(x).sum().backward()
    assert lin.weight.grad is w_grad
    np.testing.assert_allclose(w_grad, 2 * np.ones((2, 5)) @ x.data, rtol=1e-6)


def test_the_same_tensor_twice_in_one_linear_gets_the_sum_of_both_gradients():
    w = fs.tensor(np.random.default_rng(1).normal(size=(3, 3)), dtype=np.float64,
                  requires_grad=True)
    F.linear(w, w).sum().backward()
    ones = np.ones((3, 3))
    np.testing.assert_allclose(w.grad, ones @ w.data + ones.T @ w.data)


def test_a_float64_gradient_into_a_float32_leaf_is_still_converted():
    w = fs.tensor(np.ones((2, 3)), requires_grad=True)  # float32
    x = fs.tensor(np.ones((4, 3)), dtype=np.float64)
    out = ops.Linear.apply(x, w)  # float64 @ float32: a float64 output and weight gradient
    out.sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 4.0))


def test_getitem_without_grad_records_nothing_and_is_a_view():
    data = fs.tensor(np.arange(12.0).reshape(4, 3))
    batch = data[1:3]
    assert batch.grad_fn is None and not batch.requires_grad
    assert np.shares_memory(batch.data, data.data)
    w = fs.tensor(np.ones((4, 3)), requires_grad=True)
    with fs.no_grad():
        row = w[0]
        picked = w[fs.tensor([0, 0])]
    assert row.grad_fn is None and not row.requires_grad
    np.testing.assert_array_equal(picked.data, np.ones((2, 3)))
    labels = fs.tensor(np.array([2, 0, 1]))
    assert labels[1:].dtype == labels.dtype


def test_getitem_with_grad_still_builds_the_graph():
    w = fs.tensor(np.ones((4, 3)), requires_grad=True)
    w[[0, 0, 1]].sum().backward()  # a repeated index adds up
    np.testing.assert_array_equal(w.grad[:, 0], [2.0, 1.0, 0.0, 0.0])


def test_linear_errors_are_still_explained():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="expected"):
        lin(fs.tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match="expected"):
        lin(fs.tensor(1.0))
    with pytest.raises(TypeError, match="float32 weights"):
        lin(fs.tensor(np.ones((4, 3)), dtype=np.float64))
    out = lin(np.ones((4, 3)))  # a float64 NumPy array feeds a float32 layer
    assert out.dtype == np.float32 and out.shape == (4, 2)


def test_sgd_reads_a_changed_learning_rate_and_keeps_float32():
    w = fs.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.0, 0.0])
    opt.param_groups[0]["lr"] = np.float64(0.25)  # as a scheduler might set it
    w.grad = np.ones(2, dtype=np.float32)
    opt.step()
    assert w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, [-0.25, -0.25])


def test_a_leaf_used_by_several_nodes_gets_the_sum_added_as_each_node_finishes():
    # run_backward adds into a leaf's .grad as soon as a node hands it a gradient; the
    # result must equal the sum over every use, whatever the order and ownership.
    rng = np.random.default_rng(2)
    w = fs.tensor(rng.normal(size=(3, 3)), dtype=np.float64, requires_grad=True)
    x = fs.tensor(rng.normal(size=(4, 3)), dtype=np.float64)
    h = F.linear(x, w)  # fresh gradient for w, kept uncopied
    out = (F.linear(h, w) + w.sum() + (w * w).sum()).sum()  # again fresh, then Add, then Mul
    out.backward()
    ones = np.ones((4, 3))
    g_h = ones @ w.data
    expected = g_h.T @ x.data + ones.T @ h.data + 12 + 2 * 12 * w.data  # scalars x 12 entries
    np.testing.assert_allclose(w.grad, expected)
    before = w.grad.copy()
    (F.linear(x, w).sum() + w.sum()).backward()  # accumulates across backward calls
    np.testing.assert_allclose(w.grad, before + ones.T @ x.data + 1)
