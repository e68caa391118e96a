"""The tracker and its stages: crop the frame, decode the network's scores (anchors, penalties,
window), paste the mask, fit the rotated box or write the label map; settings and presets."""
