"""nn-parity's harness: check a from-scratch layer against its PyTorch twin.

    from parity_tests import assert_parity, assert_numerical_grad

``assert_parity(scratch_module, torch_module, *inputs)`` compares forward output, input
gradients, parameter gradients and buffers for one random upstream gradient, and checks the
scratch contract (backward adds into ``param.grad``; a backward before forward refuses,
naming the layer); ``assert_numerical_grad(scratch_module, *inputs)`` checks the backward
against central differences. Both work on copies: the modules given are not changed. See
parity_tests/harness.py, and parity_tests/plugin.py for pytest fixtures.
"""

from parity_tests.harness import (
    TOLERANCES,
    assert_close,
    assert_numerical_grad,
    assert_parity,
    copy_weights,
    numerical_grad,
    tolerance,
)

__all__ = ["TOLERANCES", "assert_close", "assert_numerical_grad", "assert_parity", "copy_weights",
           "numerical_grad", "tolerance"]
