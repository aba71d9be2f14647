"""The 2-D toy problem: optimizers walking across f(x1, x2), checked and written like a
comparison."""
