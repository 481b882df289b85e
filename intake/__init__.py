"""The intake side: settings, the home, triage, routing to teams, retention, backups and
the service that joins the engine, the NLU and storage (`intake.service.IntakeService`).

The public surface is the package's modules without a leading underscore, each with its
own `__all__`; nothing is re-exported here (importing the package stays cheap).
"""

__all__: list[str] = []
