"""Sequential: layers applied in order, their backwards in reverse.

out = fₙ(…f₂(f₁(x)))
∂L/∂x = f₁ᵀ(f₂ᵀ(…fₙᵀ(∂L/∂out)))     fₖᵀ: layer k's backward

Children are named "0", "1", … so the state_dict keys are
torch's ("0.weight", "2.bias"…).
twin: torch_ref/sequential.py (torch.nn.Sequential)
"""

from __future__ import annotations

from collections.abc import Iterator

from scratch import _checks as check
from scratch.module import Module


class Sequential(Module):
    """Each module's output is the next one's input."""

    def __init__(self, *modules: Module):
        super().__init__()
        for index, module in enumerate(modules):
            check.submodule("Sequential", index, module, Module)
            setattr(self, str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def backward(self, grad_out, need_input_grad: bool = True):
        """The chain rule, last module first. need_input_grad
        goes to the first module, if it can skip ∂L/∂x."""
        modules = list(self._modules.values())
        for module in reversed(modules[1:]):
            grad_out = module.backward(grad_out)
        if need_input_grad or not check.skips_input_grad(modules[0]):
            return modules[0].backward(grad_out)
        return modules[0].backward(grad_out, need_input_grad=False)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


__all__ = ["Sequential"]
