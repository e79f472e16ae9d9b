"""Divergence detection: fs.training.check_finite stops a run at the first nan/inf loss or
gradient, names the step and the value, and suggests a smaller learning rate."""

import math
import time

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn, optim
from from_scratch.training import DivergenceError, check_finite


def test_a_finite_loss_comes_back_as_a_float():
    for loss in (fs.tensor(0.25), fs.tensor([0.25]), np.float32(0.25), 0.25, np.array(0.25)):
        value = check_finite(loss, step=3)
        assert value == 0.25 and type(value) is float


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_loss_raises_naming_step_value_and_fix(bad):
    with pytest.raises(DivergenceError) as info:
        check_finite(fs.tensor(bad), step=17)
    message = str(info.value)
    assert "step 17" in message and str(bad) in message
    assert "smaller learning rate" in message or "smaller one" in message
    assert info.value.step == 17 and info.value.name == "loss"
    assert isinstance(info.value, FloatingPointError)


def test_the_message_proposes_a_learning_rate_when_given_the_optimizer():
    w = fs.zeros(2, requires_grad=True)
    with pytest.raises(DivergenceError, match=r"learning rate is 0\.5: try a smaller one, "
                                              r"e\.g\. lr=0\.05"):
        check_finite(math.nan, 2, optimizer=optim.SGD([w], lr=0.5))


def test_max_loss_catches_a_blow_up_before_it_overflows():
    assert check_finite(1e3, 0, max_loss=1e6) == 1e3
    with pytest.raises(DivergenceError, match="exceeds max_loss=1e\\+06"):
        check_finite(1e7, 0, max_loss=1e6)


def test_a_non_finite_gradient_is_named():
    fs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    model(fs.ones(4, 2)).sum().backward()
    assert check_finite(1.0, 5, model) == 1.0  # finite gradients pass
    model[1].weight.grad[0, 2] = np.nan
    with pytest.raises(DivergenceError, match=r"step 5.*gradient of 1\.weight \(shape \(1, 3\)\)"
                                              r".*1 of its 3 entries are nan or inf") as info:
        check_finite(1.0, 5, model)
    assert info.value.name == "1.weight" and math.isnan(info.value.value)
    # A plain list of tensors works too (named by position).
    with pytest.raises(DivergenceError, match="gradient of parameter 2"):
        check_finite(1.0, 5, list(model.parameters()))


def test_huge_finite_gradients_whose_sum_overflows_are_reported():
    w = fs.zeros(4, requires_grad=True)
    w.grad = np.full(4, 3e38, dtype=np.float32)
    with pytest.raises(DivergenceError, match="sum overflows"):
        check_finite(1.0, 0, [w])


def fit_quadratic(lr, steps=200):
    """Gradient descent on a 2-D regression; returns the losses, checking every step."""
    rng = np.random.default_rng(0)
    x = fs.tensor(rng.normal(size=(64, 2)))
    y = x @ fs.tensor([[2.0], [3.0]])
    w = fs.zeros(2, 1, requires_grad=True)
    opt = optim.SGD([w], lr=lr)
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = fs.functional.mse_loss(x @ w, y)
        losses.append(check_finite(loss, step, [w], optimizer=opt))
        loss.backward()
        opt.step()
    return losses


def test_too_large_a_learning_rate_is_detected_and_a_good_one_is_not():
    assert fit_quadratic(0.1)[-1] < 1e-6
    with pytest.raises(DivergenceError, match=r"at step \d+: the loss is inf.*lr=0\.2") as info:
        with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point
            fit_quadratic(2.0)
    assert 10 < info.value.step < 200


def test_check_finite_is_cheap_enough_for_every_step():
    params = [fs.tensor(np.ones((784, 128)), requires_grad=True),
              fs.tensor(np.ones(128), requires_grad=True)]
    for p in params:
        p.grad = np.ones_like(p.data)
    loss = fs.tensor(1.0)
    start = time.perf_counter()
    for step in range(100):
        check_finite(loss, step, params)
    per_call = (time.perf_counter() - start) / 100
    assert per_call < 2e-3  # ~50 µs here; generous for 2 shared cores
