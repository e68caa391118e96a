"""VOT's experiments beyond supervised, as vot-toolkit 0.9 defines them (stack vot2020/shortterm.yaml):

- multistart: the tracker starts from each anchor frame of a sequence (the sequence's anchor.value:
  > 0 forward to the last frame, < 0 backward to the first) and runs without resets;
- realtime: multistart under vot-toolkit's real-time runtime (a frame the tracker has no time for
  gets its last answer again; grace frames at each start);
- unsupervised: one pass from the first frame, no resets.

protocol.py runs one pass, realtime.py is the real-time clock, anchors.py reads a sequence's anchors
and frame rate, results.py owns vot-toolkit's result files, runner.py tracks a dataset (workers,
Ray, resume), analyses.py is vot-toolkit's arithmetic, report.py and plots.py the report.
"""

EXPERIMENTS = ("unsupervised", "realtime", "multistart")
