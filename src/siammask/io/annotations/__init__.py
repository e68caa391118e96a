"""Tracking results in annotation tools' formats (one module per format, the table in formats.py),
and keyframes read back from them (keyframes_file.py). docs/annotation.md describes each."""
