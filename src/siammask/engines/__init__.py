"""Inference engines: PyTorch, ONNX Runtime and OpenVINO behind the one interface of
siammask.engine_contract; factory.py builds them from an EngineSpec."""
