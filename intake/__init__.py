"""The intake side: settings, the home, triage, routing to teams, retention, backups and
the service that joins the engine, the NLU and storage (`intake.service.IntakeService`).

Other packages import these names from `intake` itself, never from its modules (the "through
their __init__" contract in pyproject.toml). They are listed in `__init__.pyi`, which
type checkers read, and each is imported on first use (lazy_loader), so importing the
package stays cheap and a command loads only what it runs.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
