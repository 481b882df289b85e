"""The public surface of `web`: what other packages import from it, and nothing else.

Each name and namespace module is imported on first use (`lazy_loader.attach_stub` in
__init__.py reads this file); type checkers read it as the package's interface.
"""

# modules other packages use as namespaces (`from web import labels`, then `labels.name`)
from . import labels as labels

# names
from .app import create_app as create_app
from .pdf import PdfUnavailable as PdfUnavailable
from .periodic_pdf import report_pdf as report_pdf

__all__ = [
    "PdfUnavailable",
    "create_app",
    "labels",
    "report_pdf",
]
