"""vot-toolkit's supervised experiment, made to drive a single-object TraX tracker.

Runs inside the vot-toolkit virtualenv (not the siammask one): the test puts this folder on
PYTHONPATH and names `vot_supervised.SingleObjectSupervised` as the experiment `type` in its
stack YAML. Why it exists: in vot-toolkit 0.8.x and 0.9.0 the `supervised` experiment passes its
runtime one object where the TraX runtime expects a list, and stops with "Tracker does not support
multiple objects, but multiple objects were provided for initialization" (see the shared notes).
The wrapper below hands single objects in as one-item lists and unwraps the replies; everything
else (re-initialisation after failures, skip frames, repetitions, early stop, result files) is
vot-toolkit's own code.
"""

from vot.experiment.multirun import SupervisedExperiment
from vot.tracker import OnlineTrackerRuntime


class _SingleObjectRuntime(OnlineTrackerRuntime):
    """An online runtime that speaks in single objects to the experiment and in lists to TraX."""

    def __init__(self, runtime):
        super().__init__(runtime.tracker)
        self._runtime = runtime

    def initialize(self, frame, new=None):
        status, elapsed = self._runtime.initialize(frame, [new] if new is not None else [])
        return status[0], elapsed

    def update(self, frame, new=None):
        status, elapsed = self._runtime.update(frame, [] if new is None else [new])
        return status[0], elapsed

    def stop(self):
        self._runtime.stop()

    def restart(self):
        self._runtime.restart()


class SingleObjectSupervised(SupervisedExperiment):
    """vot-toolkit's supervised (baseline) experiment with the single-object runtime wrapper."""

    def _get_runtime(self, tracker, sequence, multiobject=False):
        return _SingleObjectRuntime(super()._get_runtime(tracker, sequence, multiobject))
