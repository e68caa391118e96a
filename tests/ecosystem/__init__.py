"""Tests against the tools around the tracker: vot-toolkit over TraX, Ray, pysot's result format."""
