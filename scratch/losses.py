"""Loss functions, each with its gradient by hand.          twin: torch_ref/losses.py

A loss is a Module:
    loss = criterion(input, target)      a 0-d array for reduction 'mean' / 'sum' (torch's 0-d
                                         tensor), the element losses ℓ for 'none'
    grad = criterion.backward()          ∂L/∂input; backward(grad_out) scales by ∂(outer)/∂L,
                                         and grad_out=None means 1.0, like torch's loss.backward()

reduction, exactly as torch:
    'none' → ℓ (one loss per element, or per sample for the class losses)
    'sum'  → Σᵢ ℓᵢ
    'mean' → Σᵢ ℓᵢ / n, with n the number of elements; for NLLLoss and CrossEntropyLoss with
             class-index targets n = Σᵢ w[yᵢ] over the targets that are not ignore_index
             (the number of those targets when there is no weight).

torch's deprecated ``size_average`` and ``reduce`` arguments are left out, so every argument
after ``weight`` is keyword-only: ``MSELoss('sum')`` binds 'sum' to size_average in torch, and
is a TypeError here instead of a silent surprise.

What the tutorials get wrong, and what we do instead:

* ``-np.log(probs[target] + 1e-8)``: the epsilon biases every loss (−log(p + ε) < −log p) and
  caps it at −log 1e-8 ≈ 18.4, so a confidently wrong prediction stops being punished harder;
  the softmax before it has already lost the small probabilities to underflow. We go from
  logits straight to log-probabilities with log-softmax (the log-sum-exp trick), exact for
  logits of any size.
* ``-np.mean(y*np.log(ŷ+eps) + (1-y)*np.log(1-ŷ+eps))``: the same bias. BCELoss clamps each log
  at −100 as torch does (so it is exact wherever log is above −100), and BCEWithLogitsLoss never
  forms σ(x) at all: it uses softplus, exact for any logit.
* "the derivative of softmax + cross-entropy is p − y": true for one sample, no class weight,
  no label smoothing and reduction 'sum'. With the default 'mean' it is (p − y)/N; with class
  weights it is w[y]·(p − y)/Σw[y]; with label smoothing y is the smoothed target. Our backward
  covers all of them, and the "p − y" case is visible in it.
"""

from __future__ import annotations

import numpy as np

from scratch.activations import LogSoftmax, Sigmoid
from scratch.module import DEFAULT_DTYPE, FLOAT_DTYPES, Module, check_input

REDUCTIONS = ("none", "mean", "sum")
CLASS_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))   # torch: Long or Byte


class _Loss(Module):
    """What every loss shares: the reduction, its gradient, and the checks of weights."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
            )
        self.reduction = reduction

    def _register_weight(self, name: str, value) -> None:
        """A buffer (saved in state_dict, like torch's) or, when None, a plain None attribute.

        A NumPy float array keeps its dtype; anything else becomes float32, as
        ``torch.tensor([1.0, 2.0])`` is float32.
        """
        if value is None:
            object.__setattr__(self, name, None)
            return
        if hasattr(value, "detach"):                       # a torch tensor
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray) and value.dtype in FLOAT_DTYPES:
            array = value.copy()
        else:
            try:
                array = np.asarray(value, dtype=DEFAULT_DTYPE)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"{type(self).__name__}: {name} must be an array of numbers, got {value!r}"
                ) from error
        self.register_buffer(name, array)

    def _check_weight_dtype(self, name: str, input: np.ndarray) -> None:
        value = getattr(self, name)
        if value is not None and value.dtype != input.dtype:
            raise TypeError(
                f"{type(self).__name__}: {name} has dtype {value.dtype} but input has dtype "
                f"{input.dtype}; call .float()/.double() on the loss or convert the input"
            )

    def _reduce(self, loss: np.ndarray, denominator=None) -> np.ndarray:
        """ℓ → L. ``denominator`` replaces the element count of 'mean' (weighted means)."""
        self.loss_shape = loss.shape
        if self.reduction == "none":
            return loss
        total = loss.sum(dtype=loss.dtype)
        if self.reduction == "sum":
            return np.asarray(total)
        if denominator is None:
            denominator = loss.size
        with np.errstate(divide="ignore", invalid="ignore"):   # n = 0: NaN, as torch, silently
            return np.asarray(total / denominator)

    def _upstream(self, grad_out, dtype, denominator=None) -> np.ndarray:
        """∂L/∂ℓᵢ for every element loss: g (sum), g / n (mean), gᵢ (none)."""
        if grad_out is None:
            if self.reduction == "none":
                raise ValueError(
                    f"{type(self).__name__}.backward: with reduction='none' the loss is an array "
                    f"of shape {self.loss_shape}; pass grad_out of that shape (torch too needs a "
                    f"gradient for a non-scalar output)"
                )
            grad_out = 1.0
        g = np.asarray(grad_out, dtype=dtype)          # no float64 scalar may promote float32
        expected = self.loss_shape if self.reduction == "none" else ()
        if g.shape != expected:
            raise ValueError(
                f"{type(self).__name__}.backward: grad_out must have the loss's shape {expected}, "
                f"got {g.shape}"
            )
        if self.reduction == "mean":
            if denominator is None:
                denominator = int(np.prod(self.loss_shape))
            with np.errstate(divide="ignore", invalid="ignore"):
                g = g / denominator
        return g

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def _check_float_target(where: str, input: np.ndarray, target) -> None:
    """The target of a regression-style loss: a float array of the input's shape and dtype."""
    check_input(where, target, name="target")
    if target.dtype != input.dtype:
        raise TypeError(
            f"{where}: target has dtype {target.dtype} but input has dtype {input.dtype}; "
            f"convert one of them (torch refuses or silently promotes to float64)"
        )
    if target.shape != input.shape:
        raise ValueError(
            f"{where}: target must have the input's shape {input.shape}, got {target.shape} "
            f"(broadcasting (N, 1) against (N,) would silently build an (N, N) loss)"
        )


def _check_broadcast_weight(where: str, name: str, weight, input: np.ndarray) -> None:
    if weight is None:
        return
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ValueError(
            f"{where}: {name} of shape {weight.shape} does not broadcast to the input's shape "
            f"{input.shape}"
        )


class MSELoss(_Loss):
    """ℓᵢ = (xᵢ − yᵢ)²        L = mean or sum of ℓ          ∂L/∂xᵢ = 2 (xᵢ − yᵢ) (/ n for mean)

    input: (*), target: (*) the same shape -> L: () or ℓ: (*)
                                          twin: torch_ref/losses.py (torch.nn.MSELoss)

    A target whose shape differs from the input's is refused: torch only warns, then broadcasts
    (N, 1) against (N,) into an (N, N) loss, a classic silent bug.
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        check_input("MSELoss", input)
        _check_float_target("MSELoss", input, target)
        self.diff = input - target
        return self._reduce(self.diff * self.diff)

    def backward(self, grad_out=None) -> np.ndarray:
        g = self._upstream(grad_out, self.diff.dtype)
        return 2 * self.diff * g                                   # ∂L/∂x = 2 (x − y) · ∂L/∂ℓ


class BCELoss(_Loss):
    """ℓᵢ = −wᵢ [yᵢ log xᵢ + (1 − yᵢ) log(1 − xᵢ)],  each log clamped below at −100 (as torch)

    input: (*) probabilities in [0, 1], target: (*) the same shape, weight: broadcastable to (*)
    -> L: () or ℓ: (*)                    twin: torch_ref/losses.py (torch.nn.BCELoss)

    The clamp keeps ℓ finite at x = 0 or 1 (at most 100) without biasing it anywhere else; the
    tutorials' log(x + 1e-8) biases every value and caps the loss at 18.4.

    Backward is torch's: ∂ℓ/∂x = w (x − y) / max(x (1 − x), 1e-12). At x = 0 or 1 with the
    wrong target this is ∓1e12, not the 0 that the flat clamped log would give: the huge
    gradient pushes the prediction off the boundary, where the clamp would stall it.
    Prefer BCEWithLogitsLoss on logits: it needs neither clamp nor floor.
    """

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        check_input("BCELoss", input)
        _check_float_target("BCELoss", input, target)
        self._check_weight_dtype("weight", input)
        _check_broadcast_weight("BCELoss", "weight", self.weight, input)
        inside = (input >= 0) & (input <= 1)                       # False for NaN, as torch
        if not inside.all():
            bad = input[~inside].flat[0]
            raise ValueError(
                f"BCELoss: input must be probabilities in [0, 1] (apply Sigmoid first, or use "
                f"BCEWithLogitsLoss on the logits), got {bad!r}"
            )
        inside = (target >= 0) & (target <= 1)                     # False for NaN, as torch
        if not inside.all():
            bad = target[~inside].flat[0]
            raise ValueError(f"BCELoss: target must be probabilities in [0, 1], got {bad!r}")
        self.input, self.target = input, target
        with np.errstate(divide="ignore"):                         # log 0 = −inf, clamped next
            log_x = np.maximum(np.log(input), -100)
            log_1mx = np.maximum(np.log1p(-input), -100)
        loss = -(target * log_x + (1 - target) * log_1mx)
        if self.weight is not None:
            loss = loss * self.weight
        return self._reduce(loss)

    def backward(self, grad_out=None) -> np.ndarray:
        x, y = self.input, self.target
        g = self._upstream(grad_out, x.dtype)
        # 1e-12 as torch stores it (a float32 constant), in the input's dtype
        floor = np.asarray(np.float32(1e-12), dtype=x.dtype)
        grad_x = g * (x - y) / np.maximum(x * (1 - x), floor)      # ∂ℓ/∂x = (x − y) / (x (1 − x))
        if self.weight is not None:
            grad_x = grad_x * self.weight                          # · w
        return grad_x


class BCEWithLogitsLoss(_Loss):
    """ℓᵢ = wᵢ [pᵢ yᵢ softplus(−xᵢ) + (1 − yᵢ) softplus(xᵢ)]      = BCELoss(σ(x), y) with p = 1
    softplus(z) = log(1 + eᶻ) = max(z, 0) + log(1 + e⁻|ᶻ|)

    input: (*) logits, target: (*) the same shape, weight: broadcastable to (*),
    pos_weight: broadcastable to (*), usually (C,) for (N, C) multi-label targets
    -> L: () or ℓ: (*)                    twin: torch_ref/losses.py (torch.nn.BCEWithLogitsLoss)

    ∂ℓ/∂x = w [(1 + (p − 1) y) σ(x) − p y]       (= w (σ(x) − y) without pos_weight)

    −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x): σ is never rounded to 0 or 1
    and the exp never sees a positive argument, so logits of any size are exact, with no
    clamp. For targets in [0, 1] both terms are ≥ 0, so nothing cancels either.
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        check_input("BCEWithLogitsLoss", input)
        _check_float_target("BCEWithLogitsLoss", input, target)
        for name in ("weight", "pos_weight"):
            self._check_weight_dtype(name, input)
            _check_broadcast_weight("BCEWithLogitsLoss", name, getattr(self, name), input)
        self.input, self.target = input, target
        log_sigmoid = np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))   # log σ(x) ≤ 0
        with np.errstate(invalid="ignore", over="ignore"):         # x = ±inf: NaN or ±inf, as torch
            if self.pos_weight is not None:
                log_sigmoid = log_sigmoid * ((self.pos_weight - 1) * target + 1)
            loss = (1 - target) * input - log_sigmoid
        if self.weight is not None:
            loss = loss * self.weight
        return self._reduce(loss)

    def backward(self, grad_out=None) -> np.ndarray:
        x, y = self.input, self.target
        g = self._upstream(grad_out, x.dtype)
        sigma = Sigmoid()(x)                                       # the stable split on sign
        if self.pos_weight is None:
            grad_x = sigma - y                                     # ∂ℓ/∂x = σ(x) − y
        else:
            grad_x = (1 + (self.pos_weight - 1) * y) * sigma - self.pos_weight * y
        if self.weight is not None:
            grad_x = grad_x * self.weight                          # · w
        return g * grad_x


def _check_class_target(where: str, input: np.ndarray, target, ignore_index: int) -> None:
    """Class indices (int64 or uint8, as torch) of shape (N, d1, …), or () for a (C,) input."""
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{where}: target must be a NumPy array of class indices, got "
                        f"{type(target).__name__}")
    if target.dtype not in CLASS_TARGET_DTYPES:
        raise TypeError(
            f"{where}: target must hold class indices as int64 (or uint8), got dtype "
            f"{target.dtype}; convert with target.astype(np.int64)"
        )
    expected = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        layout = "()" if input.ndim == 1 else "(N, d1, …)"
        raise ValueError(
            f"{where}: for input of shape {input.shape} the target must have shape "
            f"{layout} = {expected}, got {target.shape}"
        )
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    valid = ((target >= 0) & (target < n_classes)) | (target == ignore_index)
    if not valid.all():
        bad = target[~valid].flat[0]
        raise ValueError(
            f"{where}: target holds class index {int(bad)}, out of range: the input has "
            f"{n_classes} classes, so targets must be in [0, {n_classes - 1}] "
            f"(or ignore_index={ignore_index})"
        )


def _check_class_weight(where: str, weight, input: np.ndarray) -> None:
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and weight.shape != (n_classes,):
        raise ValueError(
            f"{where}: weight must have one entry per class, shape ({n_classes},), got "
            f"{weight.shape}"
        )


class _ClassLoss(_Loss):
    """NLLLoss and CrossEntropyLoss: losses over a class dimension (dim 1, or 0 unbatched)."""

    def __init__(self, weight, ignore_index: int, reduction: str):
        super().__init__(reduction)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        self._register_weight("weight", weight)

    def _check(self, input: np.ndarray) -> None:
        where = type(self).__name__
        check_input(where, input)
        if input.ndim == 0:
            raise ValueError(f"{where}: input must be (C,), (N, C) or (N, C, d1, …), got a 0-d array")
        self._check_weight_dtype("weight", input)
        _check_class_weight(where, self.weight, input)

    def _pick(self, log_prob: np.ndarray, target: np.ndarray):
        """−w[y] · log_prob[y] per sample, and w[y]; both 0 where y = ignore_index.

        log_prob: (N, C, d1, …), target: (N, d1, …) -> (N, d1, …) twice.
        """
        self.keep = target != self.ignore_index
        self.index = np.expand_dims(np.where(self.keep, target, 0), 1)   # (N, 1, d1, …)
        picked = np.take_along_axis(log_prob, self.index, axis=1)[:, 0]  # (N, d1, …)
        ones = np.ones((), dtype=log_prob.dtype)
        w_y = self.weight[self.index[:, 0]] if self.weight is not None else ones
        self.w_y = np.where(self.keep, w_y, 0).astype(log_prob.dtype, copy=False)
        return np.where(self.keep, -self.w_y * picked, 0), self.w_y

    def _scatter(self, coef: np.ndarray, shape) -> np.ndarray:
        """−coef · w[y] at each sample's target class, 0 elsewhere: ∂(Σ −w[y] log_prob[y])."""
        grad = np.zeros(shape, dtype=coef.dtype)
        np.put_along_axis(grad, self.index, np.expand_dims(-coef * self.w_y, 1), axis=1)
        return grad

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


def _batched(input: np.ndarray, target: np.ndarray):
    """An unbatched (C,) input with a () target as a batch of one: (1, C) and (1,)."""
    if input.ndim == 1:
        return input[None], target[None]
    return input, target


class NLLLoss(_ClassLoss):
    """ℓᵢ = −w[yᵢ] · xᵢ,yᵢ   (0 where yᵢ = ignore_index)      L = Σ ℓᵢ / Σ w[yᵢ] for 'mean'

    input: (N, C) or (N, C, d1, …) log-probabilities, or (C,) unbatched;
    target: (N,) or (N, d1, …) class indices, or () -> L: () or ℓ: the target's shape
                                          twin: torch_ref/losses.py (torch.nn.NLLLoss)

    ∂L/∂xᵢ,c = −w[yᵢ] · 1[c = yᵢ] · ∂L/∂ℓᵢ   (a scatter into the target column)
    The 'mean' is a weighted mean: its denominator is the total weight of the targets that are
    not ignored, not N. If that total is 0 (every target ignored) L is NaN, as in torch.
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, ignore_index, reduction)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        self._check(input)
        _check_class_target("NLLLoss", input, target, self.ignore_index)
        self.input_shape = input.shape
        x, target = _batched(input, target)                        # (N, C, …), (N, …)
        loss, w_y = self._pick(x, target)                          # (N, …)
        self.total_weight = w_y.sum(dtype=w_y.dtype)
        if input.ndim == 1:
            loss = loss[0]                                         # ()
        return self._reduce(loss, self.total_weight)

    def backward(self, grad_out=None) -> np.ndarray:
        dtype = self.w_y.dtype
        g = self._upstream(grad_out, dtype, self.total_weight)
        coef = np.where(self.keep, g, 0)   # ignored samples get 0, even when L is NaN
        shape = (1, *self.input_shape) if len(self.input_shape) == 1 else self.input_shape
        return self._scatter(coef, shape).reshape(self.input_shape)  # ∂L/∂x = −w[y] 1[c = y] g


class CrossEntropyLoss(_ClassLoss):
    """Cross-entropy of logits: log-softmax over the class dimension, then NLLLoss.

    log p = LogSoftmax(dim=class)(x)      ℓᵢ = −Σ_c qᵢ,c log pᵢ,c
    class-index targets:   qᵢ,c = (1 − ε) w[yᵢ] 1[c = yᵢ] + (ε / C) w[c]      (0 if yᵢ ignored)
    probability targets:   qᵢ,c = w[c] ((1 − ε) yᵢ,c + ε / C)
    'mean': Σ ℓᵢ / Σᵢ w[yᵢ] (non-ignored) for indices, as NLLLoss; Σ ℓᵢ / N for probabilities.

    input: (N, C), (N, C, d1, …) or unbatched (C,) logits; target: class indices (N,),
    (N, d1, …) or (), or class probabilities of the input's shape and dtype
    -> L: () or ℓ: (N,), (N, d1, …) or ()  twin: torch_ref/losses.py (torch.nn.CrossEntropyLoss)

    ε = label_smoothing, w = weight (1 without), C = number of classes. Smoothing mixes the
    one-hot target with the uniform distribution, and as in torch the uniform part is weighted
    by w[c] of every class c (not w[yᵢ]), and shares the weighted-mean denominator Σ w[yᵢ].

    Backward: ∂L/∂xᵢ,c = gᵢ (pᵢ,c Σ_c' qᵢ,c' − qᵢ,c) with gᵢ = ∂L/∂ℓᵢ (g/Σw[y] for 'mean').
    With one sample, no weight, ε = 0 and 'sum', Σq = 1 and this is the tutorials' p − y.
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], got {label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)
        self.log_softmax = LogSoftmax(dim=1)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        self._check(input)
        self.input_shape = input.shape
        self.probabilities = (isinstance(target, np.ndarray) and target.dtype in FLOAT_DTYPES
                              and target.shape == input.shape)
        if not self.probabilities:
            _check_class_target("CrossEntropyLoss", input, target, self.ignore_index)
        else:
            _check_float_target("CrossEntropyLoss", input, target)
        x, target = _batched(input, target)                        # (N, C, …)
        eps, n_classes = self.label_smoothing, x.shape[1]
        log_prob = self.log_softmax(x)                             # (N, C, …)
        w = self._class_weight(x)                                  # (1, C, 1, …)
        if self.probabilities:
            self.q = w * ((1 - eps) * target + eps / n_classes)    # (N, C, …)
            loss = -(self.q * log_prob).sum(axis=1)                # (N, …)
            self.denominator = None                                # the mean is over N·d1·…
        else:
            nll, w_y = self._pick(log_prob, target)                # (N, …)
            loss = (1 - eps) * nll if eps else nll
            if eps:
                smooth = -(w * log_prob).sum(axis=1)               # −Σ_c w[c] log p_c  (N, …)
                loss = loss + eps / n_classes * np.where(self.keep, smooth, 0)
            self.denominator = w_y.sum(dtype=w_y.dtype)            # Σ w[y] over kept targets
        if input.ndim == 1:
            loss = loss[0]                                         # ()
        return self._reduce(loss, self.denominator)

    def backward(self, grad_out=None) -> np.ndarray:
        log_prob = self.log_softmax.out
        dtype = log_prob.dtype
        g = self._upstream(grad_out, dtype, self.denominator)      # ∂L/∂ℓᵢ
        g = np.broadcast_to(g, log_prob.shape[:1] + log_prob.shape[2:])   # (N, …)
        coef = np.expand_dims(g, 1)                                # (N, 1, …)
        if self.probabilities:
            grad_log_prob = -coef * self.q                         # ∂L/∂log p = −g q
        else:
            eps, n_classes = self.label_smoothing, log_prob.shape[1]
            g = np.where(self.keep, g, 0)   # ignored samples get 0, even when L is NaN
            grad_log_prob = self._scatter((1 - eps) * g, log_prob.shape)  # −g (1 − ε) w[y] 1[c = y]
            if eps:
                w = self._class_weight(log_prob)
                grad_log_prob -= np.expand_dims(g, 1) * (eps / n_classes) * w  # −g (ε/C) w[c]
        grad_x = self.log_softmax.backward(grad_log_prob)          # ∂L/∂x = G − p Σ_c G
        return grad_x.reshape(self.input_shape)

    def _class_weight(self, x: np.ndarray) -> np.ndarray:
        """w[c] shaped to broadcast along the class dimension: (1, C, 1, …)."""
        if self.weight is None:
            return np.ones((), dtype=x.dtype)
        return self.weight.reshape((1, -1) + (1,) * (x.ndim - 2))

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")


__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]
