"""Reusable widgets: charts, tables, the option panels and the search editor."""
