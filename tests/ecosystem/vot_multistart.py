"""vot-toolkit 0.9.0's multistart experiment, made to run a TraX tracker.

Runs inside the vot-toolkit virtualenv (not the siammask one): the test puts this folder on
PYTHONPATH and names `vot_multistart.RunnableMultiStart` as the experiment `type` in its stack YAML.
Why it exists: in 0.9.0 `MultiStartExperiment.execute` builds its query from an ObjectStatus where
a Region is required and stops at once with "ObjectQuery.state must be a Region" (and its query
offset is the anchor's frame number, which the runtime compares with the run's own frame index).
This subclass keeps vot-toolkit's anchors (`find_anchors`), its frame order (`FrameMapSequence`,
reversed up to the anchor for a backward one), its runtime (TraX; initialised with a one-item list,
as vot_supervised.py does) and its result files (`Trajectory.write`, named SEQ_AAAAAAAA); it only
drives the runtime frame by frame itself.
"""

from vot.dataset.proxy import FrameMapSequence
from vot.experiment.multistart import MultiStartExperiment, find_anchors
from vot.region import Special
from vot.tracker import ObjectStatus, Trajectory


class RunnableMultiStart(MultiStartExperiment):
    def execute(self, tracker, sequence, force=False, callback=None):
        results = self.results(tracker, sequence)
        forward, backward = find_anchors(sequence, self.anchor)
        if not forward and not backward:
            raise RuntimeError("Sequence does not contain any anchors")
        runs = [(f, False) for f in forward] + [(f, True) for f in backward]
        with self._get_runtime(tracker, sequence) as runtime:
            for done, (anchor, reverse) in enumerate(runs, start=1):
                name = f"{sequence.name}_{anchor:08d}"
                if Trajectory.exists(results, name) and not force:
                    continue
                order = list(reversed(range(anchor + 1))) if reverse else list(range(anchor, len(sequence)))
                proxy = FrameMapSequence(sequence, order)
                trajectory = Trajectory(len(proxy))
                _, elapsed = runtime.initialize(proxy.frame(0), [ObjectStatus(proxy.groundtruth(0), {})])
                trajectory.set(0, Special(Trajectory.INITIALIZATION), {"time": elapsed})
                for frame in range(1, len(proxy)):
                    status, elapsed = runtime.update(proxy.frame(frame), [])
                    trajectory.set(frame, status[0].region, {"time": elapsed})
                trajectory.write(results, name)
                if callback:
                    callback(done / len(runs))
