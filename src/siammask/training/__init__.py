"""Training SiamMask: pairs (data.py), the paper's losses (losses.py), the loop with checkpoints
and resume (loop.py), held-out evaluation with the tracker (holdout.py), a whole
`siammask train` run (run.py)."""
