"""The views (Lab, Compare, 2-D toy, Search) and the dialogs they open."""
