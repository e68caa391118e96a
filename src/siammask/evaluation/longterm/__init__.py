"""The long-term protocol (VOT-LT, pysot's F1Benchmark): each sequence tracked once from its first
frame without resets; tracking precision, recall and F-score over the tracker's confidence
thresholds (Lukežič et al.). protocol.py runs one sequence, runner.py a dataset (workers, Ray,
resume), results.py owns the files, measures.py the arithmetic, report.py and plots.py the report.
"""
