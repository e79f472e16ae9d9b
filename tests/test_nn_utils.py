"""nn.utils: clip_grad_norm_ (the total norm over all gradients, returned as PyTorch does, and
the gradients rescaled in place) and clip_grad_value_."""

import math

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn

RNG = np.random.default_rng(0)


def params_with_grads(*grads, dtype=np.float32):
    params = []
    for g in grads:
        p = fs.tensor(np.zeros_like(g), requires_grad=True, dtype=dtype)
        p.grad = np.array(g, dtype=dtype)
        params.append(p)
    return params


def test_total_norm_is_over_all_gradients_together():
    g1, g2 = RNG.normal(size=(3, 4)), RNG.normal(size=5)
    params = params_with_grads(g1, g2)
    total = nn.utils.clip_grad_norm_(params, max_norm=1e9)
    expected = math.sqrt(np.sum(g1**2) + np.sum(g2**2))
    assert isinstance(total, fs.Tensor) and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), expected, rtol=1e-6)
    np.testing.assert_allclose(params[0].grad, g1, rtol=1e-6)  # below max_norm: untouched


def test_large_gradients_are_rescaled_in_place_to_max_norm():
    g1, g2 = RNG.normal(size=(3, 4)) * 10, RNG.normal(size=5) * 10
    params = params_with_grads(g1, g2)
    arrays = [p.grad for p in params]
    total = nn.utils.clip_grad_norm_(params, max_norm=2.0).item()
    new_norm = math.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2) for p in params))
    np.testing.assert_allclose(new_norm, 2.0, rtol=1e-5)
    np.testing.assert_allclose(params[0].grad, g1 * 2.0 / total, rtol=1e-5)  # same direction
    assert all(p.grad is a and a.dtype == np.float32 for p, a in zip(params, arrays, strict=True))


def test_inf_norm_none_grads_and_a_single_tensor():
    params = params_with_grads(np.array([1.0, -7.0]), np.array([3.0]))
    no_grad = fs.zeros(2, requires_grad=True)
    total = nn.utils.clip_grad_norm_(params + [no_grad], 3.5, norm_type=math.inf)
    assert total.item() == 7.0 and no_grad.grad is None
    np.testing.assert_allclose(params[0].grad, np.array([1.0, -7.0]) * 3.5 / (7 + 1e-6))
    single = params_with_grads(np.array([3.0, 4.0]))[0]
    assert nn.utils.clip_grad_norm_(single, 10.0).item() == 5.0
    assert nn.utils.clip_grad_norm_([no_grad], 1.0).item() == 0.0


def test_huge_float32_gradients_do_not_overflow_the_norm():
    params = params_with_grads(np.array([3e20, 4e20]))
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(params, 1.0).item(), 5e20, rtol=1e-6)
    np.testing.assert_allclose(params[0].grad, [0.6, 0.8], rtol=1e-5)


def test_non_finite_norm_raises_when_asked():
    params = params_with_grads(np.array([1.0, np.nan]))
    with pytest.raises(RuntimeError, match="nan.*smaller learning rate"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_entry_in_place():
    params = params_with_grads(np.array([-3.0, 0.5, 2.0]))
    grad = params[0].grad
    nn.utils.clip_grad_value_(params, 1.0)
    assert params[0].grad is grad
    np.testing.assert_array_equal(grad, [-1.0, 0.5, 1.0])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_pytorch(norm_type):
    torch = pytest.importorskip("torch")
    grads = [RNG.normal(size=(4, 3)).astype(np.float32), RNG.normal(size=3).astype(np.float32)]
    ours = params_with_grads(*grads)
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads, strict=True):
        t.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)
