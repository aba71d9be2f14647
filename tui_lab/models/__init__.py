"""Model architectures: what each is (catalog) and how it is built (build)."""
