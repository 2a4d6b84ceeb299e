"""Autograd: how torch_ref gets its backward, as a tape in NumPy.

Each operation on a Tensor records its inputs and a closure
∂L/∂out -> ∂L/∂input; backward() walks the recorded graph
from the output in reverse topological order, applying

    ∂L/∂x = Σ over the uses u of x of  (∂u/∂x)ᵀ ∂L/∂u

(a tensor used twice sums its gradients; a broadcast input
sums them over the axes it was stretched on).

twin: torch_ref/autograd.py (torch.Tensor, requires_grad)
story: docs/autograd.md (micrograd's scalars, torch's tensors)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.conv import Conv2d
from scratch.pooling import MaxPool2d


class Tensor:
    """An array that remembers how it was made. After
    backward(), grad = ∂L/∂data on the leaves that require
    grad (and on tensors that retain_grad())."""

    def __init__(self, data, requires_grad: bool = False,
                 parents: tuple = (), backward=None, op: str = ""):
        self.data, self.grad = np.asarray(data), None
        self.requires_grad = bool(requires_grad)
        self.parents, self.op = parents, op
        self._backward = backward     # ∂L/∂out -> ∂L/∂parents
        self._retain = False

    is_leaf = property(lambda self: not self.parents)
    shape = property(lambda self: self.data.shape)

    def retain_grad(self) -> Tensor:        # keep a non-leaf's .grad
        self._retain = True
        return self

    # -- the operations, each with its backward ------------------
    def __add__(self, other) -> Tensor:
        other = self._operand(other)
        return _record(self.data + other.data, (self, other), "+",
                       lambda g: (g, g))

    def __mul__(self, other) -> Tensor:
        other = self._operand(other)
        a, b = self.data, other.data
        return _record(a * b, (self, other), "*",
                       lambda g: (g * b, g * a))

    def __truediv__(self, other) -> Tensor:
        other = self._operand(other)
        a, b = self.data, other.data
        return _record(a / b, (self, other), "/",
                       lambda g: (g / b, -g * a / (b * b)))

    def __matmul__(self, other) -> Tensor:
        other = self._operand(other)
        a, b = self.data, other.data
        for m in (a, b):            # matrices, or batches of them
            check.input("Tensor.__matmul__", m, ndim=(2, 3, 4))
        a_T, b_T = np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)
        return _record(a @ b, (self, other), "@",
                       lambda g: (g @ b_T, a_T @ g))

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-self._operand(other))

    __radd__, __rmul__ = __add__, __mul__     # 2 + x, 2 * x

    def __rsub__(self, other) -> Tensor:
        return self._operand(other) - self

    def __rtruediv__(self, other) -> Tensor:
        return self._operand(other) / self

    def _operand(self, other) -> Tensor:
        """A number becomes a constant of this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        return Tensor(np.asarray(other, dtype=self.data.dtype))

    @property
    def T(self) -> Tensor:
        return _record(self.data.T, (self,), "T",
                       lambda g: (g.T,))

    def reshape(self, *shape) -> Tensor:
        old = self.shape
        return _record(self.data.reshape(*shape), (self,),
                       "reshape", lambda g: (g.reshape(old),))

    def sum(self, dim=None, keepdim: bool = False) -> Tensor:
        shape = self.shape
        out = self.data.sum(axis=dim, keepdims=keepdim)
        return _record(out, (self,), "sum", lambda g: (
            _expand(g, shape, dim, keepdim),))

    def mean(self, dim=None, keepdim: bool = False) -> Tensor:
        dims = range(self.data.ndim) if dim is None else np.atleast_1d(dim)
        count = int(np.prod([self.shape[d] for d in dims]))
        return self.sum(dim, keepdim) / count

    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return _record(out, (self,), "exp",
                       lambda g: (g * out,))   # e^x' = e^x

    def log(self) -> Tensor:
        x = self.data
        return _record(np.log(x), (self,), "log",
                       lambda g: (g / x,))

    def relu(self) -> Tensor:
        out = np.maximum(self.data, 0)
        return _record(out, (self,), "relu",
                       lambda g: (g * (out > 0),))

    def sigmoid(self) -> Tensor:
        e = np.exp(-np.abs(self.data))      # never overflows
        out = np.where(self.data >= 0, 1 / (1 + e), e / (1 + e))
        return _record(out, (self,), "sigmoid",
                       lambda g: (g * out * (1 - out),))

    def tanh(self) -> Tensor:
        out = np.tanh(self.data)
        return _record(out, (self,), "tanh",
                       lambda g: (g * (1 - out * out),))

    def log_softmax(self, dim: int) -> Tensor:
        x = self.data
        z = x - x.max(axis=dim, keepdims=True)
        out = z - np.log(np.exp(z).sum(axis=dim, keepdims=True))
        return _record(out, (self,), "log_softmax", lambda g: (
            g - np.exp(out) * g.sum(axis=dim, keepdims=True),))

    # -- the chain rule, over the recorded graph ------------------
    def backward(self, gradient=None) -> None:
        """∂self/∂(every tensor that made it), summed into .grad."""
        check.tape_output(self, gradient)
        if gradient is None:                 # a scalar: ∂L/∂L = 1
            gradient = np.ones_like(self.data)
        grads = {id(self): np.asarray(gradient, self.data.dtype)}
        for node in reversed(_topological(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node.is_leaf or node._retain:
                node.grad = g if node.grad is None else node.grad + g
            if node.is_leaf:
                continue
            for parent, pg in zip(node.parents, node._backward(g),
                                  strict=True):
                if parent.requires_grad:      # used twice: the sum
                    pg = _unbroadcast(pg, parent.shape)
                    grads[id(parent)] = grads.get(id(parent), 0) + pg

    def __repr__(self) -> str:
        made = f", op={self.op!r}" if self.op else ""
        return f"Tensor({self.data!r}{made})"


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """F.conv2d on the tape: one op whose forward and backward
    are scratch's Conv2d layer's (scratch/conv.py), reused."""
    w = weight.data
    layer = Conv2d(w.shape[1] * groups, w.shape[0], w.shape[2:],
                   stride, padding, dilation, groups,
                   bias=bias is not None, dtype=w.dtype)
    layer.weight.data = w
    parents = (input, weight)
    if bias is not None:
        layer.bias.data, parents = bias.data, (input, weight, bias)

    def backward(g):
        layer.zero_grad()
        grad_x = layer.backward(g)
        grads = (grad_x, layer.weight.grad)
        return grads if bias is None else (*grads, layer.bias.grad)

    return _record(layer(input.data), parents, "conv2d", backward)


def max_pool2d(input: Tensor, kernel_size, stride=None,
               padding=0) -> Tensor:
    """F.max_pool2d on the tape, by scratch's MaxPool2d layer."""
    layer = MaxPool2d(kernel_size, stride, padding)
    return _record(layer(input.data), (input,), "max_pool2d",
                   lambda g: (layer.backward(g),))


def mlp_nll(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor,
            b2: Tensor, onehot: Tensor) -> Tensor:
    """A program on the tape: a two-layer MLP's mean negative
    log-likelihood, x: (N, in), onehot: (N, classes) -> ()."""
    h = (x @ W1.T + b1).relu()                    # (N, hidden)
    log_p = (h @ W2.T + b2).log_softmax(dim=1)    # (N, classes)
    return (log_p * onehot).sum() * (-1 / x.shape[0])


def _record(data, parents: tuple, op: str, backward) -> Tensor:
    """The result of an op: a node whose backward is recorded."""
    needs = any(p.requires_grad for p in parents)
    return Tensor(data, requires_grad=needs, parents=parents,
                  backward=backward if needs else None, op=op)


def _topological(root: Tensor) -> list[Tensor]:
    """Every node that made ``root``, each after its parents."""
    order, seen = [], set()

    def visit(node: Tensor) -> None:
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ∂L/∂out over the axes broadcasting stretched."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):                 # added axes
        grad = grad.sum(axis=0)
    stretched = tuple(i for i, n in enumerate(shape)
                      if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True).reshape(shape)


def _expand(g, shape: tuple, dim, keepdim: bool) -> np.ndarray:
    """∂sum/∂x: the gradient copied back over the summed axes."""
    if dim is not None and not keepdim:
        g = np.expand_dims(g, dim)
    return np.broadcast_to(g, shape).copy()

__all__ = ["Tensor", "conv2d", "max_pool2d", "mlp_nll"]
