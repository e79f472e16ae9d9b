"""fs.viz: the pictures draw what they are given (counted artists, not pixels)."""

import matplotlib  # conftest.py selects the Agg backend and closes figures after each test
import matplotlib.pyplot as plt
import numpy as np
import pytest

import from_scratch as fs


def _artists(fig, gid):
    ax = fig.axes[0]
    return [a for a in ax.texts + ax.patches if a.get_gid() == gid]


def test_draw_graph_counts_tensors_ops_and_edges():
    x = fs.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = fs.tensor([0.5, 0.5, 0.5], requires_grad=True)
    z = (x * y + x).sum()  # tensors x, y, x*y, x*y+x, z; ops Mul, Add, Sum
    fig = fs.viz.draw_graph(z, names={"x": x, "y": y, "z": z})
    assert isinstance(fig, matplotlib.figure.Figure)
    tensors, ops = _artists(fig, "tensor"), _artists(fig, "op")
    assert len(tensors) == 5
    assert sorted(t.get_text() for t in ops) == ["AddBackward", "MulBackward", "SumBackward"]
    # x->Mul, y->Mul, Mul->xy, xy->Add, x->Add, Add->s, s->Sum, Sum->z
    assert len(_artists(fig, "edge")) == 8
    labels = [t.get_text() for t in tensors]
    assert "x\n(3,)" in labels and "y\n(3,)" in labels and "z\nscalar" in labels
    assert labels.count("(3,)") == 2  # the two unnamed intermediates show their shape


def test_draw_graph_layers_left_to_right():
    a = fs.tensor(2.0, requires_grad=True)
    b = a.exp()
    c = b.tanh()
    fig = fs.viz.draw_graph(c, names={"a": a, "b": b, "c": c})
    x_of = {t.get_text().split("\n")[0]: t.get_position()[0]
            for t in _artists(fig, "tensor") + _artists(fig, "op")}
    assert x_of["a"] < x_of["ExpBackward"] < x_of["b"] < x_of["TanhBackward"] < x_of["c"]


def test_draw_graph_reused_input_gets_two_arrows_and_constants_are_labelled():
    a = fs.tensor(3.0, requires_grad=True)
    b = 2.0 * a
    c = b * b
    fig = fs.viz.draw_graph(c)
    assert len(_artists(fig, "op")) == 2
    assert len(_artists(fig, "tensor")) == 4  # 2.0, a, b, c
    assert "2" in [t.get_text() for t in _artists(fig, "tensor")]
    assert len(_artists(fig, "edge")) == 6  # 2.0->Mul, a->Mul, Mul->b, b->Mul twice, Mul->c


def test_draw_graph_of_a_leaf_is_one_box():
    fig = fs.viz.draw_graph(fs.tensor(np.zeros((2, 3))))
    assert [t.get_text() for t in _artists(fig, "tensor")] == ["(2, 3)"]
    assert _artists(fig, "op") == [] and _artists(fig, "edge") == []


def test_draw_graph_after_backward_says_to_draw_before():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="before calling backward"):
        fs.viz.draw_graph(y)


def test_draw_graph_works_after_backward_with_retain_graph():
    x = fs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert len(_artists(fs.viz.draw_graph(y), "op")) == 2


def test_draw_graph_rejects_huge_graphs_and_bad_arguments():
    x = fs.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        fs.viz.draw_graph(y)
    with pytest.raises(TypeError, match="Tensor"):
        fs.viz.draw_graph(np.ones(3))
    with pytest.raises(TypeError, match="names"):
        fs.viz.draw_graph(y * 1.0, names={"x": 1.0})


def test_import_from_scratch_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, from_scratch; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- plot_history

def _lines(ax):
    return {line.get_gid(): line for line in ax.get_lines()}


def test_plot_history_groups_splits_into_one_panel_per_metric():
    history = {"train_loss": [1.0, 0.5, 0.25], "test_loss": [1.2, 0.7, 0.5],
               "train_acc": [0.5, 0.8, 0.9], "test_acc": [0.4, 0.7, 0.85]}
    fig = fs.viz.plot_history(history)
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "acc"
    assert set(_lines(loss_ax)) == {"train_loss", "test_loss"}
    assert set(_lines(acc_ax)) == {"train_acc", "test_acc"}
    line = _lines(loss_ax)["test_loss"]
    assert np.array_equal(line.get_xdata(), [1, 2, 3])  # epochs counted from 1
    assert np.allclose(line.get_ydata(), [1.2, 0.7, 0.5])
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "test"]
    assert loss_ax.get_xlabel() == "epoch"


def test_plot_history_runs_without_prefix_share_one_panel_with_a_legend():
    history = {"SGD": np.linspace(1, 0.5, 50), "Adam": np.linspace(1, 0.1, 40)}
    fig = fs.viz.plot_history(history, xlabel="step", start=0, logy=True)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    lines = _lines(ax)
    assert set(lines) == {"SGD", "Adam"}
    assert len(lines["Adam"].get_xdata()) == 40 and lines["Adam"].get_xdata()[0] == 0
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["Adam", "SGD"]


def test_plot_history_on_a_given_axes_and_non_finite_values_become_gaps():
    fig, ax = plt.subplots()
    out = fs.viz.plot_history({"lr=1": [1.0, 10.0, np.inf, np.nan], "lr=0.1": [1.0, 0.9]},
                              ax=ax, title="sweep")
    assert out is fig and len(fig.axes) == 1 and ax.get_title() == "sweep"
    y = _lines(ax)["lr=1"].get_ydata()
    assert np.allclose(y[:2], [1.0, 10.0]) and np.isnan(y[2:]).all()


def test_plot_history_labels_every_y_axis():
    runs = {"SGD": [1.0, 0.5], "Adam": [1.0, 0.2]}
    assert fs.viz.plot_history(runs).axes[0].get_ylabel() == "value"
    assert fs.viz.plot_history(runs, ylabel="loss").axes[0].get_ylabel() == "loss"
    fig, ax = plt.subplots()
    fs.viz.plot_history({"train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6]}, ax=ax)
    assert ax.get_ylabel() == "loss", "curves of one quantity on a given axes: that quantity"
    fig, ax = plt.subplots()
    fs.viz.plot_history({"train_loss": [1.0], "test_acc": [0.5]}, ax=ax)
    assert ax.get_ylabel() == "value", "two quantities on one axes: no single name fits"
    panels = fs.viz.plot_history({"train_loss": [1.0], "test_accuracy": [0.5]}, ylabel="score")
    assert [a.get_ylabel() for a in panels.axes] == ["score", "score"], "ylabel wins everywhere"


def test_plot_history_says_to_store_floats():
    with pytest.raises(TypeError, match="dict"):
        fs.viz.plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        fs.viz.plot_history({"loss": [[1.0, 2.0]]})


# ----------------------------------------------------------------- plot_decision_boundary

class _Diagonal(fs.nn.Module):
    """Logit 4 (x2 - x1): class 1 above the diagonal x2 = x1."""

    def forward(self, x):
        return 4.0 * (x[:, 1:2] - x[:, 0:1])


def _by_gid(ax, gid):
    return [a for a in ax.collections + ax.get_children() if a.get_gid() == gid]


def test_plot_decision_boundary_draws_the_p_half_line_and_the_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 2)).astype(np.float32)
    y = (X[:, 1] > X[:, 0]).astype(np.int64)
    model = _Diagonal()
    model.train()
    fig = fs.viz.plot_decision_boundary(model, X, y, resolution=101, padding=0.5)
    ax = fig.axes[0]
    assert model.training, "the model's training mode is restored"
    boundary = _by_gid(ax, "decision-boundary")[0]
    assert list(boundary.levels) == [0.5]
    vertices = np.concatenate([p.vertices for p in boundary.get_paths()])
    assert len(vertices) > 10
    assert np.allclose(vertices[:, 0], vertices[:, 1], atol=1e-4), "p = 0.5 on x2 = x1"
    filled = _by_gid(ax, "probability")[0]
    assert filled.levels[0] == 0.0 and filled.levels[-1] == 1.0
    points = _by_gid(ax, "data")[0]
    assert np.allclose(points.get_offsets(), X)
    red = points.get_facecolors()[:, 0] > points.get_facecolors()[:, 2]
    assert np.array_equal(red, y == 1), "class 1 red, class 0 blue"
    assert ax.get_xlim() == pytest.approx((X[:, 0].min() - 0.5, X[:, 0].max() + 0.5))


def test_plot_decision_boundary_with_probabilities_and_on_a_given_axes():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    fig, axes = plt.subplots(1, 2)

    def prob(x):  # already a probability, 1-D output: p > 0.5 right of x1 = 1
        return fs.tensor(1.0) / (1.0 + (-(x[:, 0] - 1.0) * 3.0).exp())

    out = fs.viz.plot_decision_boundary(prob, X, ax=axes[1], logits=False, title="p")
    assert out is fig and axes[1].get_title() == "p" and not axes[0].collections
    vertices = np.concatenate([p.vertices for p in _by_gid(axes[1], "decision-boundary")[0]
                               .get_paths()])
    assert np.allclose(vertices[:, 0], 1.0, atol=1e-2)
    assert _by_gid(axes[1], "data") == []  # no labels given, no points


def test_plot_decision_boundary_multiclass_colours_regions_by_argmax():
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [1.0, -1.0]])

    def three(x):  # class 0 left, 1 top right, 2 bottom right
        left = -x[:, 0:1]
        return fs.cat([left, x[:, 0:1] + x[:, 1:2], x[:, 0:1] - x[:, 1:2]], axis=1)

    fig = fs.viz.plot_decision_boundary(three, X, np.array([0, 1, 2]))
    regions = _by_gid(fig.axes[0], "classes")[0]
    assert list(regions.levels) == [-0.5, 0.5, 1.5, 2.5]
    assert _by_gid(fig.axes[0], "decision-boundary") == []


def test_plot_decision_boundary_rejects_inputs_that_are_not_2d():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        fs.viz.plot_decision_boundary(_Diagonal(), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="labels"):
        fs.viz.plot_decision_boundary(_Diagonal(), np.zeros((5, 2)), np.zeros(4))
