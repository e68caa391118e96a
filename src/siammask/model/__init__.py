"""The PyTorch network and its checkpoints (needs the `torch` extra)."""
