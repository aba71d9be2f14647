"""The training side: one run, a comparison of runs, checkpoints and the comparison job."""
