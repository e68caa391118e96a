"""Dataset readers, one module per format (vot.py, davis.py), the table that recognises them
(formats.py), and the synthetic datasets written in their layouts (synth.py, synth_davis.py).

Nothing here tracks or scores: evaluation, training, quantize and bench import their datasets from here.
"""
