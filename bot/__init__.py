"""The channels: console, Telegram (`bot.telegram`), Signal (`bot.signal`), web chat,
WhatsApp, voice.

The public surface is the package's modules without a leading underscore, each with its
own `__all__`; nothing is re-exported here (importing the package stays cheap).
"""

__all__: list[str] = []
