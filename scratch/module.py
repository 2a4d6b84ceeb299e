"""Parameter and Module: the framework a scratch layer is written in.

twin: torch.nn.Parameter, torch.nn.Module (the framework's own, so torch_ref has no
module.py). Sequential, the container, is a concept of its own: scratch/sequential.py.

What torch's autograd does for you, a scratch Module does by hand:

    out = layer(x)              forward: computes out, keeps in self.cache what backward needs
    grad_x = layer.backward(g)  g = ∂L/∂out; *adds* ∂L/∂θ into every param.grad, returns ∂L/∂x

Backward adds, as torch accumulates, which is why training loops call ``zero_grad()``.
Names follow torch, so a torch ``state_dict`` converted to NumPy loads directly, and back.
Parameters are float32, like torch's; ``.double()`` / ``.float()`` convert a whole module.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

from scratch import _checks as check


class Parameter:
    """A learnable array: ``.data`` the value, ``.grad`` the accumulated ∂L/∂data.

    twin: torch.nn.Parameter. Unlike torch's, ``.grad`` starts as zeros, not None.
    """

    def __init__(self, data: np.ndarray, dtype=None):
        data = np.asarray(data)
        if dtype is None:
            floating = data.dtype in check.FLOAT_DTYPES
            dtype = data.dtype if floating else check.DEFAULT_DTYPE
        self.data = np.array(data, dtype=dtype)      # a copy: the caller's stays theirs
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every scratch layer, loss and model.

    Attributes that are Parameters or Modules register themselves in assignment order, as in
    torch, so ``named_parameters()`` yields torch's dotted names (``conv1.weight``...).
    State that belongs in a checkpoint but is not learned (BatchNorm's running statistics)
    is registered with ``register_buffer``. ``self.cache`` holds what forward saved.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "cache", None)

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning attribute {name!r}")
        if name in self._buffers:             # re-assigning a buffer keeps it a buffer
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """State saved in ``state_dict`` but not learned (e.g. ``running_mean``)."""
        self._buffers[name] = None            # the value lives in the attribute
        object.__setattr__(self, name, array)

    def __call__(self, *args, **kwargs):
        if "input" in kwargs and not args:     # torch's keyword: layer(input=x)
            args = (kwargs.pop("input"),)
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    # -- traversal ------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for module_name, module in self.named_modules(prefix):
            for name in module._buffers:
                yield (f"{module_name}.{name}" if module_name else name), getattr(module, name)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = np.zeros_like(param.data)

    # -- modes and dtype --------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def to(self, dtype) -> Module:
        """Every parameter (with its grad) and floating buffer, converted to ``dtype``."""
        dtype = check.dtype(f"{type(self).__name__}.to", dtype)
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            param.grad = param.grad.astype(dtype)
        for module in self.modules():
            for name in module._buffers:
                value = getattr(module, name)
                if isinstance(value, np.ndarray) and value.dtype in check.FLOAT_DTYPES:
                    object.__setattr__(module, name, value.astype(dtype))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    @property
    def dtype(self) -> np.dtype:
        """The first parameter's dtype (float32 for a module without parameters)."""
        for param in self.parameters():
            return param.data.dtype
        return np.dtype(check.DEFAULT_DTYPE)

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameters then buffers of each module, keyed as torch keys them, as copies."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules():
            dot = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                out[dot + name] = param.data.copy()
            for name in module._buffers:
                out[dot + name] = np.array(getattr(module, name), copy=True)
        return out

    def load_state_dict(self, state_dict: Mapping[str, object], strict: bool = True) -> None:
        """Copy values in by name; the module keeps its own dtype, as torch's ``copy_`` does.

        Values may be arrays or anything ``np.asarray`` takes (CPU tensors too). Missing or
        unexpected keys (when ``strict``) and shape mismatches raise a KeyError / ValueError
        that lists them all, and nothing is changed.
        """
        where = f"{type(self).__name__}.load_state_dict"
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{where}: keys do not match; missing: {missing or 'none'}; "
                           f"unexpected: {unexpected or 'none'}")
        values = {k: np.asarray(to_numpy(state_dict[k])) for k in own if k in state_dict}
        mismatched = [f"{k}: checkpoint {v.shape}, model {own[k].shape}"
                      for k, v in values.items() if v.shape != own[k].shape]
        if mismatched:
            raise ValueError(f"{where}: shapes do not match: " + "; ".join(mismatched))
        params = dict(self.named_parameters())
        for key, value in values.items():
            if key in params:
                params[key].data[...] = value
                continue
            module_name, _, name = key.rpartition(".")
            module = dict(self.named_modules())[module_name]
            old = getattr(module, name)
            dtype = np.asarray(old).dtype
            object.__setattr__(module, name, np.array(value, dtype=dtype))

    # -- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """As torch prints: extra_repr inline for leaves, one line per child otherwise."""
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"  {line}" for line in extra.split("\n")] if extra else []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def to_numpy(value):
    """A torch tensor (on any device) or an array-like, as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value
