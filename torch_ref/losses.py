"""Loss functions.                              twin: scratch/losses.py

loss = criterion(input, target): a 0-d tensor for reduction 'mean' / 'sum', the element losses
for 'none'. loss.backward() fills input.grad.
"""

from torch import nn

# torch.nn's losses are the reference itself; autograd derives every backward.
# Re-exported so that both folders offer the same names.
MSELoss = nn.MSELoss                       # (x − y)²
BCELoss = nn.BCELoss                       # −w [y log x + (1 − y) log(1 − x)], logs clamped at −100
BCEWithLogitsLoss = nn.BCEWithLogitsLoss   # BCELoss(σ(x), y), computed from the logits
NLLLoss = nn.NLLLoss                       # −w[y] x_y, weighted mean over non-ignored targets
CrossEntropyLoss = nn.CrossEntropyLoss     # NLLLoss(log_softmax(x)), with label smoothing

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]
