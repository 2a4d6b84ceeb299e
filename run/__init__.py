"""A training run's bookkeeping, so that train.py can read as the training loop alone.

    recipe.py      what both twins follow: epochs, batch, optimizer, schedule, order, data, device
    twins.py       the torch twin and the scratch twin behind one interface: step, evaluate, state
    cli.py         the command line and its checks
    checkpoint.py  atomic, weights_only checkpoints; where a run is; Ctrl-C and SIGTERM
    report.py      what a run prints and records: the progress bar, epochs, the lockstep
    plots.py       the run's pictures

Imports run down only: train.py uses this package, this package uses the twins, and neither
twin imports it (see the layout in README.md).
"""
