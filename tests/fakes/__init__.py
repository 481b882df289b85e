"""Loopback fakes of the services Sanad talks to, speaking their real wire protocols.

`POLL_SECONDS` is how often a fake's `serve_forever` loop looks for a shutdown request. The
standard library's default of 0.5 s made every fake's shutdown wait up to half a second,
which added up to about a third of the suite's wall time.
"""

POLL_SECONDS = 0.02
