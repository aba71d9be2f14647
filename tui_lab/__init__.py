"""tui-lab: a terminal training lab for deep-learning optimization."""

__version__ = "0.1.0"
