"""Tables, repository functions that take a session, the inbox, drafts, the outbox and,
in `storage/crypto/`, every cryptographic operation.

The public surface is the package's modules without a leading underscore, each with its
own `__all__`; nothing is re-exported here (importing the package stays cheap).
"""

__all__: list[str] = []
