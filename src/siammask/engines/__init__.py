"""Inference engines: one small, stateless interface over PyTorch and ONNX Runtime."""

from siammask.engines.base import Engine, SearchResult, TemplateKernels

__all__ = ["Engine", "SearchResult", "TemplateKernels"]
