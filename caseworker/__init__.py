"""The reading side: the queue, opening a case, replies, the dashboard's use cases,
access and identity requests, statistics, reports and exports, the caseworkers' words.

The public surface is the package's modules without a leading underscore, each with its
own `__all__`; nothing is re-exported here (importing the package stays cheap).
"""

__all__: list[str] = []
