"""The one-pass protocol (OPE: OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet): each sequence tracked
once from its first frame's box, never reset; success, precision and normalised precision as pysot's
OPEBenchmark computes them, AO / SR / speed as the GOT-10k toolkit does. protocol.py runs one
sequence, runner.py a dataset (workers, Ray, resume), results.py owns the files and the submission
archives, measures.py the arithmetic, report.py and plots.py the report.
"""
