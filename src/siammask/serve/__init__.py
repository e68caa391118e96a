"""`siammask serve`: a browser page to open a video, draw targets, watch them tracked, download results.

app.py holds the HTTP routes, sessions.py the per-browser state and its temporary folders,
videos.py what an upload or a --media pick becomes (a checked, openable frame source), jobs.py
the tracking runs. The page itself (static/) is plain HTML, CSS and JavaScript: no build step.
"""
