"""From weights to offline graphs: the graph contract (names, feeds, windows, manifest), ONNX
export with its metadata recorded in the artefact, INT8 quantization, and what a checkpoint or an
exported folder holds (describe.py)."""
