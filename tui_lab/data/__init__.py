"""The datasets: what each is (catalog), where its files are (files), how it is held (tensors)."""
