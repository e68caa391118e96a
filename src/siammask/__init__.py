"""SiamMask tracking: the authors' checkpoint, offline ONNX graphs and VOT evaluation."""

from siammask.errors import SiamMaskError

__version__ = "0.1.0"

__all__ = ["SiamMaskError", "__version__"]
