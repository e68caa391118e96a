"""From weights to offline graphs: the graph contract (names, feeds, windows, manifest), ONNX
export with its metadata recorded in the artefact, and INT8 quantization."""
