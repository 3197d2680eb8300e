"""Tools outside the optimizer's library: the benchmark suite (`suite`, the `fusedbun-bench` command) and the step-time
harness (`speed`). No library module imports this package; its dependencies are the `bench` extra."""
