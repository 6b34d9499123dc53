"""The decode path: a file's layers and models, weights, rendering (no PyAV, no training code)."""
