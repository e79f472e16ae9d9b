"""Pictures for the chapters. Each function is independent, takes data, draws it with
matplotlib and returns the Figure (the notebook cell then ends with `plt.show()`).

matplotlib is imported inside each function, so `import from_scratch` stays fast and light.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .tensor import Tensor

if TYPE_CHECKING:  # for the type hints only: matplotlib is imported inside each function
    from matplotlib.figure import Figure

# ----------------------------------------------------------------------------- draw_graph

_LEAF_COLOR = "#cfe2ff"  # a leaf that requires grad: what backward() computes gradients for
_CONST_COLOR = "#eeeeee"  # a constant (requires_grad=False), e.g. the 2.0 in `2.0 * x`
_RESULT_COLOR = "#d4edda"  # the tensor the graph was drawn from
_OP_COLOR = "#ffe8b3"
_CHAR_INCH = 0.6 * 9 / 72  # width of one monospace character at 9 pt
_PAD_INCH = 0.35 * 9 / 72  # the boxes' padding (0.35 em)
_GAP_INCH = 0.4  # room for the arrows between two columns
_ROW_INCH = 0.7
_MARGIN_INCH = 0.15


def _collect_graph(root: Tensor, max_nodes: int):
    """Walk the graph that ends at `root` (iteratively, as backward does).

    Returns `nodes` {key: Tensor or Function} in discovery order and `edges` [(src, dst)],
    with keys ("t", id) for tensors and ("f", id) for op nodes.
    """
    nodes: dict = {}
    edges: list = []
    stack = [root]
    while stack:
        t = stack.pop()
        key = ("t", id(t))
        if key in nodes:
            continue
        nodes[key] = t
        fn = t._ctx
        if fn is not None:
            if fn.released:
                raise RuntimeError(
                    "draw_graph: this graph was already used by backward(), which frees its "
                    "nodes to save memory. Draw the graph before calling backward(), or call "
                    "backward(retain_graph=True) if you need both.")
            fkey = ("f", id(fn))
            nodes[fkey] = fn
            edges.append((fkey, key))
            for parent in fn.inputs:
                edges.append((("t", id(parent)), fkey))
            # Reversed, so the first input is visited (and later drawn) first.
            stack.extend(reversed(fn.inputs))
        if len(nodes) > max_nodes:
            raise ValueError(
                f"draw_graph: the graph has more than max_nodes={max_nodes} nodes; a drawing "
                f"that big is unreadable. Draw a smaller computation, or raise max_nodes.")
    return nodes, edges


def _columns(nodes: dict, edges: list) -> dict:
    """Column of each node: ops and results by their depth (longest path) from the leaves;
    a leaf sits just left of the first op that uses it, so a late input (a bias) is not
    stretched across the whole picture."""
    inputs: dict = {k: [] for k in nodes}
    users: dict = {k: [] for k in nodes}
    for src, dst in edges:
        inputs[dst].append(src)
        users[src].append(dst)
    depth: dict = {}
    # Iterative post-order: every node after all its inputs.
    for start in nodes:
        stack = [(start, False)]
        while stack:
            key, ready = stack.pop()
            if key in depth:
                continue
            if ready:
                depth[key] = 1 + max((depth[i] for i in inputs[key]), default=-1)
                continue
            stack.append((key, True))
            stack.extend((i, False) for i in inputs[key] if i not in depth)
    column = {}
    for key in nodes:
        if key[0] == "t" and not inputs[key] and users[key]:
            column[key] = min(depth[u] for u in users[key]) - 1
        else:
            column[key] = depth[key]
    return column


def _order_rows(nodes: dict, edges: list, column: dict) -> dict:
    """Vertical position of each node: a few barycenter sweeps to keep edges short."""
    n_cols = max(column.values()) + 1
    layers = [[k for k in nodes if column[k] == c] for c in range(n_cols)]
    neighbours: dict = {k: [] for k in nodes}
    for src, dst in edges:
        neighbours[src].append(dst)
        neighbours[dst].append(src)

    def place(layer):
        return {k: (len(layer) - 1) / 2 - i for i, k in enumerate(layer)}

    y: dict = {}
    for layer in layers:
        y.update(place(layer))
    for sweep in range(4):  # left to right, then right to left, twice
        indices = range(1, n_cols) if sweep % 2 == 0 else range(n_cols - 2, -1, -1)
        for c in indices:
            side = c - 1 if sweep % 2 == 0 else c + 1

            def key_of(k, side=side):
                near = [y[n] for n in neighbours[k] if column[n] == side]
                return -sum(near) / len(near) if near else -y[k]

            layers[c].sort(key=key_of)
            y.update(place(layers[c]))
    return y


def _tensor_label(t: Tensor, name: str | None) -> str:
    if name is None and not t.requires_grad and t.data.size == 1:
        return f"{t.data.item():.4g}"  # a constant such as the 2.0 in 2.0 * x
    shape = "scalar" if t.ndim == 0 else str(t.shape)
    return shape if name is None else f"{name}\n{shape}"


def draw_graph(tensor: Tensor, names: dict | None = None, max_nodes: int = 100) -> Figure:
    """Draw the computational graph that produced `tensor`; returns a matplotlib Figure.

    Boxes are tensors (labelled with their name from `names`, e.g. {"x": x, "w": w}, and their
    shape), ellipses are op nodes (MulBackward, ...), arrows go from inputs to ops to outputs,
    left to right. Colours: blue leaves that require grad, grey constants, green `tensor`.

    Draw *before* calling backward(): backward frees the graph's nodes, and drawing a freed
    graph raises a RuntimeError saying so (unless backward(retain_graph=True) was used).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import BoxStyle, FancyArrowPatch

    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph takes a Tensor, got {type(tensor).__name__}")
    label_of: dict = {}
    for name, t in (names or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: names maps a name to a Tensor, e.g. {{'x': x}}; "
                            f"names[{name!r}] is a {type(t).__name__}")
        label_of[id(t)] = str(name)

    nodes, edges = _collect_graph(tensor, max_nodes)
    column = _columns(nodes, edges)
    row = _order_rows(nodes, edges, column)
    n_cols = max(column.values()) + 1
    n_rows = max(sum(1 for c in column.values() if c == k) for k in range(n_cols))

    # Sizes in inches, with an axes that fills the figure so one data unit is one inch:
    # the picture grows with the graph instead of squeezing its labels.
    labels = {}
    for key, node in nodes.items():
        if key[0] == "f":
            labels[key] = f"{type(node).__name__}Backward"
        else:
            labels[key] = _tensor_label(node, label_of.get(key[1]))
    # Monospace at 9 pt: every character is 0.6 em wide, so box sizes are known before
    # drawing. matplotlib's ellipse box is √2 times wider than the text and its padding.
    width = {}
    for key, label in labels.items():
        w = max(len(line) for line in label.split("\n")) * _CHAR_INCH + 2 * _PAD_INCH
        width[key] = w * (2**0.5 if key[0] == "f" else 1.0)
    widths = [0.0] * n_cols
    for key, w in width.items():
        widths[column[key]] = max(widths[column[key]], w)
    centers, x = [], _MARGIN_INCH
    for w in widths:
        centers.append(x + w / 2)
        x += w + _GAP_INCH
    fig_w = x - _GAP_INCH + _MARGIN_INCH
    fig_h = n_rows * _ROW_INCH + 2 * _MARGIN_INCH
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    ax.axis("off")
    # "ellipse" exists from matplotlib 3.7 on; older versions get rounded corners instead.
    op_style = "ellipse" if "ellipse" in BoxStyle.get_styles() else "round4"

    artists = {}
    for key, node in nodes.items():
        xy = (centers[column[key]], fig_h / 2 + row[key] * _ROW_INCH)
        if key[0] == "f":
            box = dict(boxstyle=f"{op_style},pad=0.35", facecolor=_OP_COLOR, edgecolor="0.35")
            gid = "op"
        else:
            if node is tensor:
                color, line = _RESULT_COLOR, "-"
            elif node._ctx is None:
                color, line = (_LEAF_COLOR, "-") if node.requires_grad else (_CONST_COLOR, "--")
            else:
                color, line = "white", "-"
            box = dict(boxstyle="round,pad=0.35", facecolor=color, edgecolor="0.35",
                       linestyle=line)
            gid = "tensor"
        text = ax.text(*xy, labels[key], ha="center", va="center", fontsize=9, bbox=box,
                       fontfamily="monospace", zorder=3)
        text.set_gid(gid)
        artists[key] = text

    # Arrows go from the right end of a box to the left end of the next one, under the
    # boxes, so a long arrow passes behind the boxes it crosses. The same input used twice
    # by one op (x * x) gets two curved arrows, so the reuse stays visible.
    count = Counter(edges)
    seen: Counter = Counter()
    for src, dst in edges:
        (xa, ya), (xb, yb) = artists[src].get_position(), artists[dst].get_position()
        m, k = count[(src, dst)], seen[(src, dst)]
        seen[(src, dst)] += 1
        bend = 0.0 if m == 1 else 0.6 * (2 * k / (m - 1) - 1)  # m arrows fanned out
        arrow = FancyArrowPatch(
            (xa + width[src] / 2, ya), (xb - width[dst] / 2, yb), arrowstyle="-|>",
            mutation_scale=10, color="0.3", lw=1.0, shrinkA=0, shrinkB=0, zorder=1,
            connectionstyle=f"arc3,rad={bend}")
        arrow.set_gid("edge")
        ax.add_patch(arrow)
    return fig


# ----------------------------------------------------------------------------- images


def _image_stack(images, name: str):
    """(N, H, W), (N, H, W, 3|4) or (N, H·W) with H·W a square -> an (N, H, W[, C]) array."""
    import numpy as np

    arr = images.data if isinstance(images, Tensor) else np.asarray(images)
    if arr.ndim == 2:
        side = int(round(arr.shape[1] ** 0.5))
        if side * side != arr.shape[1]:
            raise ValueError(
                f"{name}: got a 2-D array of shape {arr.shape}, read as {arr.shape[0]} flat "
                f"images of {arr.shape[1]} pixels, which is not a square; reshape it to "
                f"(N, height, width) first")
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
        raise ValueError(
            f"{name} expects images of shape (N, H, W), (N, H*W) or (N, H, W, 3), got "
            f"{arr.shape}; for a single image use images[None]")
    if len(arr) == 0:
        raise ValueError(f"{name}: there are no images to show (got shape {arr.shape})")
    return arr


def show_images(images, labels=None, titles=None, ncols: int = 10, cmap: str = "gray",
                symmetric: bool = False, scale: float = 1.0) -> Figure:
    """Draw images in a grid (ncols per row), each titled by its label or title; returns the Figure.

    `images` is (N, H, W), (N, H, W, 3) or (N, H·W) with a square H·W (MNIST's (N, 784) rows
    are shown as 28×28), as an array or Tensor. Each image gets its own colour range; with
    `symmetric=True` that range is centred on 0 (-m..m), which suits weights, where the sign
    matters (use a diverging cmap such as "RdBu_r"). `scale` is the size of one image in inches.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    arr = _image_stack(images, "show_images")
    n = len(arr)
    if labels is not None and titles is not None:
        raise ValueError("show_images: pass labels or titles, not both (titles are free text, "
                         "e.g. [f'{y} -> {p}' for y, p in zip(labels, predictions)])")
    captions = titles if titles is not None else labels
    if captions is not None:
        if isinstance(captions, Tensor):
            captions = captions.data
        if isinstance(captions, np.ndarray):
            captions = captions.tolist()  # Python ints print as 3, not np.int64(3)
        captions = [str(c) for c in captions]
        if len(captions) != n:
            raise ValueError(f"show_images: got {n} images but {len(captions)} "
                             f"{'titles' if titles is not None else 'labels'}; give one each")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"show_images: ncols must be a positive integer, got {ncols!r}")
    ncols = min(int(ncols), n)
    nrows = -(-n // ncols)  # ceil
    title_inch = 0.25 if captions is not None else 0.0
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(ncols * scale, nrows * (scale + title_inch)))
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue  # an empty slot at the end of the last row
        image = arr[k]
        limits = {}
        if symmetric:
            m = float(np.max(np.abs(image))) or 1.0
            limits = dict(vmin=-m, vmax=m)
        ax.imshow(image, cmap=cmap, interpolation="nearest", **limits)
        if captions is not None:
            ax.set_title(captions[k], fontsize=9, pad=2)
    fig.tight_layout(pad=0.2, h_pad=0.3, w_pad=0.2)
    return fig


def plot_confusion_matrix(matrix, classes=None, emphasize_errors: bool = True,
                          cmap: str = "Blues") -> Figure:
    """Draw a confusion matrix (rows: true class, columns: predicted) with every count written
    in its cell; returns the Figure.

    `matrix[i, j]` counts the samples of class i predicted as j. With `emphasize_errors` the
    colour scale stops at the largest off-diagonal count, so the mistakes stand out instead of
    being washed out by the (much larger) correct counts on the diagonal, which saturate.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    cm = matrix.data if isinstance(matrix, Tensor) else np.asarray(matrix)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix expects a square (C, C) matrix of counts, got "
                         f"shape {cm.shape}; build it with np.bincount(C * y_true + y_pred, "
                         f"minlength=C * C).reshape(C, C)")
    c = cm.shape[0]
    classes = [str(k) for k in (range(c) if classes is None else classes)]
    if len(classes) != c:
        raise ValueError(f"plot_confusion_matrix: {len(classes)} class names for a {c}×{c} "
                         f"matrix; give one name per row")
    off = cm[~np.eye(c, dtype=bool)]
    vmax = float(off.max()) if emphasize_errors and off.size and off.max() > 0 else float(cm.max())
    vmax = vmax or 1.0
    fig, ax = plt.subplots(figsize=(0.5 * c + 1.5, 0.5 * c + 1.0))
    image = ax.imshow(cm, cmap=cmap, vmin=0, vmax=vmax)
    for i in range(c):
        for j in range(c):
            value = cm[i, j]
            text = f"{value:.2g}" if cm.dtype.kind == "f" else str(value)
            dark = value > 0.6 * vmax  # white text on dark cells
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if dark else "black").set_gid("count")
    ax.set_xticks(range(c), classes)
    ax.set_yticks(range(c), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                 extend="max" if vmax < cm.max() else "neither")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- training

_SPLITS = ("train", "training", "val", "valid", "validation", "test")


def _split_key(key: str) -> tuple[str | None, str]:
    """'train_loss' -> ('train', 'loss'); 'test acc' -> ('test', 'acc'); 'SGD' -> (None, 'SGD')."""
    for sep in ("_", " "):
        head, _, tail = key.partition(sep)
        if tail and head.lower() in _SPLITS:
            return head, tail
    return None, key


def plot_history(history, xlabel: str = "epoch", start: int = 1, logy: bool = False,
                 ax=None, title: str | None = None, ylabel: str | None = None) -> Figure:
    """Draw training curves from a dict {name: list of numbers}; returns the Figure.

    Names with a split prefix (`train_loss`, `test_loss`, `train_acc`, `val acc`, ...) are
    grouped by what they measure: one panel for the losses, one for the accuracies, each with
    a line per split. Names without a prefix (e.g. {"SGD": [...], "Adam": [...]}) share one
    panel, which suits comparing runs. With `ax`, every curve goes on that axes.

    The i-th value of every curve is drawn at x = start + i. A curve may be shorter than the
    others (a run that stopped early), and nan or inf values are left out of the line.
    `logy=True` uses a logarithmic y axis (for losses that fall by orders of magnitude).
    Every panel's y axis is labelled: with `ylabel` if given, else with what its curves
    measure (`loss` for train_loss and test_loss), else "value". Pass e.g. ylabel="loss"
    when the curves are named after runs.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not isinstance(history, dict) or not history:
        raise TypeError("plot_history expects a non-empty dict {name: list of values}, e.g. "
                        "{'train_loss': [...], 'test_loss': [...]}")
    curves = {}
    for name, values in history.items():
        arr = values.data if isinstance(values, Tensor) else values
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"plot_history: history[{name!r}] must be a list of numbers; got "
                f"{type(values).__name__}. Store loss.item(), not the loss Tensor.") from None
        if arr.ndim != 1:
            raise ValueError(f"plot_history: history[{name!r}] must be 1-D (one value per "
                             f"epoch or step), got shape {arr.shape}")
        curves[str(name)] = arr

    panels: dict[str, list[str]] = {}
    if ax is not None:
        panels[""] = list(curves)
    else:
        for name in curves:
            split, metric = _split_key(name)
            panels.setdefault(metric if split is not None else "", []).append(name)
    if ax is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
        axes = list(axes.flat)
    else:
        fig, axes = ax.figure, [ax]
    for axis, (metric, names) in zip(axes, panels.items(), strict=True):
        for name in names:
            y = curves[name]
            x = start + np.arange(len(y))
            y = np.where(np.isfinite(y), y, np.nan)  # a gap, not a line shooting off to inf
            split, _ = _split_key(name)
            label = split if (metric and split is not None and len(panels) > 1) else name
            marker = "o" if len(y) <= 30 else None
            line, = axis.plot(x, y, marker=marker, markersize=4, label=label)
            line.set_gid(name)
        axis.set_xlabel(xlabel)
        keys = [_split_key(name) for name in names]
        measured = {m for split, m in keys if split is not None}
        shared = measured.pop() if len(measured) == 1 and len(keys) == sum(
            split is not None for split, _ in keys) else None  # e.g. train_loss and test_loss
        axis.set_ylabel(ylabel if ylabel is not None else (metric or shared or "value"))
        if metric:
            axis.set_title(metric)
        if logy:
            axis.set_yscale("log")
        if len(names) > 1 or not metric:
            axis.legend()
        axis.grid(alpha=0.3)
    if title is not None:
        if ax is None and len(axes) > 1:
            fig.suptitle(title)
        else:
            axes[0].set_title(title)
    if ax is None:
        fig.tight_layout()
    return fig


def plot_decision_boundary(model, X, y=None, ax=None, resolution: int = 200,
                           padding: float = 0.5, logits: bool = True,
                           title: str | None = None) -> Figure:
    """Draw what a 2-D classifier predicts over the plane, with the data on top; returns the
    Figure.

    `model` maps an (M, 2) Tensor to scores: one column (or a 1-D output) for a binary
    classifier, C columns for C classes. It is evaluated once, under `fs.no_grad()` and in
    `eval()` mode (restored afterwards), on a `resolution` × `resolution` grid that covers X
    with `padding` around it. A binary output is turned into the probability of class 1 (by
    a sigmoid when `logits=True`, the default; pass logits=False if the model already ends
    with one), shaded from blue (0) to red (1), and the decision boundary p = 0.5 is drawn as
    a black line. With C columns each region is coloured by its argmax class.
    The points X are coloured by their labels y (if given).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .autograd import no_grad
    from .tensor import get_default_dtype

    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary draws 2-D inputs: X must have shape (N, 2), "
                         f"got {X.shape}")
    if y is not None:
        y = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"plot_decision_boundary: {len(X)} points but {len(y)} labels")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(get_default_dtype())

    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        with no_grad():
            out = model(Tensor(grid))
    finally:
        if was_training:
            model.train()
    scores = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=float)
    if scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
        scores = scores.reshape(-1)
        if len(scores) != len(grid):
            raise ValueError(f"plot_decision_boundary: the model returned {len(scores)} scores "
                             f"for {len(grid)} grid points")
        if logits:
            prob = np.exp(-np.logaddexp(0.0, -scores))  # sigmoid without overflow
        else:
            prob = scores
        binary = True
    elif scores.ndim == 2 and scores.shape[0] == len(grid):
        binary = False
        classes = scores.argmax(axis=1)
    else:
        raise ValueError(f"plot_decision_boundary: the model's output for an (M, 2) input must "
                         f"have shape (M,), (M, 1) or (M, C); got {scores.shape}")

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4))
    else:
        fig = ax.figure
    if binary:
        zz = prob.reshape(gx.shape)
        filled = ax.contourf(gx, gy, zz, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                             alpha=0.6, vmin=0, vmax=1)
        filled.set_gid("probability")
        if zz.min() < 0.5 < zz.max():
            boundary = ax.contour(gx, gy, zz, levels=[0.5], colors="k", linewidths=1.5)
            boundary.set_gid("decision-boundary")
    else:
        n_classes = scores.shape[1]
        zz = classes.reshape(gx.shape)
        filled = ax.contourf(gx, gy, zz, levels=np.arange(n_classes + 1) - 0.5, cmap="tab10",
                             alpha=0.35, vmin=-0.5, vmax=9.5)
        filled.set_gid("classes")
    if y is not None:
        if binary:
            colors = np.where(y > 0.5, "#b2182b", "#2166ac")
            points = ax.scatter(X[:, 0], X[:, 1], c=colors, s=14, edgecolors="white",
                                linewidths=0.5)
        else:
            points = ax.scatter(X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=14,
                                edgecolors="white", linewidths=0.5)
        points.set_gid("data")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is not None:
        ax.set_title(title)
    return fig
