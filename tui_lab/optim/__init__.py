"""Optimizers: the registry (torch.optim classes) and the lectures' rules written out."""
