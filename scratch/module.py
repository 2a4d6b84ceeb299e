"""The scratch module system: Parameter, Module and Sequential.

twin: torch.nn.Parameter, torch.nn.Module, torch.nn.Sequential (the framework's own, so
torch_ref has no module.py).

What torch's autograd does for you, a scratch Module does by hand:

* ``forward(x)`` computes the output and keeps in ``self`` what backward will need;
* ``backward(grad_out)`` receives ∂L/∂out, *adds* ∂L/∂θ into every ``param.grad`` (torch
  accumulates too, which is why training loops call ``zero_grad()``) and returns ∂L/∂x.

Names follow torch so that ``state_dict`` keys match: a torch ``state_dict`` converted to
NumPy (``{k: v.numpy() for k, v in sd.items()}``) loads directly, and the other way round.

Computation follows the dtype of the parameters and inputs. Parameters are created as
float32, like torch; ``.double()`` / ``.float()`` convert a whole module.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

DEFAULT_DTYPE = np.float32
FLOAT_DTYPES = (np.float32, np.float64)


def resolve_dtype(dtype=None, where: str = "dtype") -> np.dtype:
    """A layer's ``dtype=`` argument: None means float32 (torch's default); else float32/64."""
    if dtype is None:
        return np.dtype(DEFAULT_DTYPE)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


class Parameter:
    """A learnable array: ``.data`` holds the value, ``.grad`` the accumulated ∂L/∂data.

    twin: torch.nn.Parameter. Unlike torch, ``.grad`` is an array of zeros from the start
    (torch starts with ``None``); ``zero_grad()`` sets it back to zeros.
    """

    def __init__(self, data: np.ndarray, dtype=None):
        data = np.asarray(data)
        if dtype is None:
            dtype = data.dtype if data.dtype in FLOAT_DTYPES else DEFAULT_DTYPE
        self.data = np.array(data, dtype=dtype)   # a copy: the caller's array stays theirs
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

    Attributes that are Parameters or Modules register themselves in assignment order,
    exactly as in torch, so ``named_parameters()`` yields torch's dotted names
    (``conv1.weight``, ``fc2.bias``...). Non-learnable state that belongs in a checkpoint
    (BatchNorm's running statistics) is registered with ``register_buffer``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before assigning "
                f"attribute {name!r}"
            )
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
        """State saved in ``state_dict`` but not learned (e.g. ``running_mean``).

        The value lives in the attribute; ``_buffers`` only remembers the name and order.
        """
        self._buffers[name] = None
        object.__setattr__(self, name, array)

    # -- calling ------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    # -- traversal ----------------------------------------------------------------------
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

    # -- modes --------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- dtype --------------------------------------------------------------------------
    def to(self, dtype) -> Module:
        """Convert every parameter (with its grad) and floating buffer to ``dtype``."""
        dtype = np.dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{type(self).__name__}.to: dtype must be float32 or float64, got {dtype}"
            )
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            param.grad = param.grad.astype(dtype)
        for module in self.modules():
            for name in module._buffers:
                value = getattr(module, name)
                if isinstance(value, np.ndarray) and value.dtype in FLOAT_DTYPES:
                    object.__setattr__(module, name, value.astype(dtype))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the first parameter (float32 for modules without parameters)."""
        for param in self.parameters():
            return param.data.dtype
        return np.dtype(DEFAULT_DTYPE)

    # -- checkpoints --------------------------------------------------------------------
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

        Values may be NumPy arrays or anything ``np.asarray`` accepts (CPU torch tensors
        included). Missing or unexpected keys (when ``strict``) and shape mismatches raise a
        ``KeyError`` / ``ValueError`` that lists them all, and nothing is changed.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: keys do not match; "
                f"missing: {missing or 'none'}; unexpected: {unexpected or 'none'}"
            )
        values = {}
        mismatched = []
        for key in own:
            if key not in state_dict:
                continue
            value = np.asarray(_to_numpy(state_dict[key]))
            if value.shape != own[key].shape:
                mismatched.append(f"{key}: checkpoint {value.shape}, model {own[key].shape}")
            values[key] = value
        if mismatched:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: shapes do not match: " + "; ".join(mismatched)
            )
        params = dict(self.named_parameters())
        buffer_owner = {}
        for module_name, module in self.named_modules():
            for name in module._buffers:
                buffer_owner[f"{module_name}.{name}" if module_name else name] = (module, name)
        for key, value in values.items():
            if key in params:
                params[key].data[...] = value
            else:
                module, name = buffer_owner[key]
                old = getattr(module, name)
                object.__setattr__(module, name, np.asarray(value, dtype=np.asarray(old).dtype).copy())

    # -- printing -----------------------------------------------------------------------
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


def _to_numpy(value):
    """A torch tensor (on any device) or an array-like, as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse.   twin: torch.nn.Sequential

    out = fₙ(…f₂(f₁(x)))       ∂L/∂x = f₁ᵀ(f₂ᵀ(…fₙᵀ(∂L/∂out)))
    Children are named "0", "1", … so ``state_dict`` keys match torch's.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {index} must be a scratch Module, got {type(module).__name__}"
                )
            setattr(self, str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def backward(self, grad_out):
        for module in reversed(self._modules.values()):
            grad_out = module.backward(grad_out)
        return grad_out

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


# -- input checks shared by every layer ---------------------------------------------------
def check_input(
    where: str,
    x,
    *,
    name: str = "input",
    ndim: int | tuple[int, ...] | None = None,
    dtype=None,
    shape_hint: str = "",
) -> None:
    """Refuse what torch refuses, with a message that names the layer, the argument,
    what it expected and what it got.

    ``where``: the layer, e.g. ``"Linear(in_features=4, out_features=3)"``.
    ``ndim``: the accepted ranks. ``dtype``: the dtype the input must have (the layer's
    parameter dtype, since torch refuses float64 input to a float32 layer).
    ``shape_hint``: the expected layout, e.g. ``"(N, C_in, H, W)"``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: {name} must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{where}: {name} must be float32 or float64, got dtype {x.dtype} "
            f"(convert with x.astype(np.float32))"
        )
    if ndim is not None:
        accepted = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in accepted:
            wanted = " or ".join(f"{d}-D" for d in accepted)
            hint = f" {shape_hint}" if shape_hint else ""
            raise ValueError(
                f"{where}: {name} must be {wanted}{hint}, got {x.ndim}-D with shape {x.shape}"
            )
    if dtype is not None and x.dtype != np.dtype(dtype):
        raise TypeError(
            f"{where}: {name} has dtype {x.dtype} but the layer's parameters are "
            f"{np.dtype(dtype)}; convert the input or call .double()/.float() on the layer"
        )
