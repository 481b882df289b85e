"""The caseworker dashboard (Starlette, server-rendered Jinja2 templates)."""

from web.app import create_app

__all__ = ["create_app"]
