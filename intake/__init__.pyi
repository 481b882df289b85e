"""The public surface of `intake`: what other packages import from it, and nothing else.

Each name and namespace module is imported on first use (`lazy_loader.attach_stub` in
__init__.py reads this file); type checkers read it as the package's interface.
"""

# modules other packages use as namespaces (`from intake import followup`, then `followup.name`)
from . import followup as followup

# names
from .app import build_intake as build_intake
from .app import open_database as open_database
from .app import setup_logging as setup_logging
from .backup import BackupError as BackupError
from .backup import backup_admin as backup_admin
from .backup import backup_signer as backup_signer
from .backup import fingerprint as fingerprint
from .backup import make_backup as make_backup
from .backup import restore_backup as restore_backup
from .backup import sign_document as sign_document
from .backup import verify_document as verify_document
from .home import Home as Home
from .home import HomeError as HomeError
from .home import init_demo as init_demo
from .home import offline_keys as offline_keys
from .hygiene import harden as harden
from .hygiene import in_tests as in_tests
from .hygiene import warnings_for as warnings_for
from .retention import purge as purge
from .retention import vacuum_postgres as vacuum_postgres
from .routing import EXAMPLE as EXAMPLE
from .routing import RoutingError as RoutingError
from .routing import check_routing as check_routing
from .routing import routing_path as routing_path
from .service import Incoming as Incoming
from .service import IntakeService as IntakeService
from .service import Outcome as Outcome
from .settings import Settings as Settings
from .settings import SettingsError as SettingsError
from .support import DEFAULTS as DEFAULTS
from .support import ConfigError as ConfigError
from .support import Directory as Directory
from .support import Guidance as Guidance
from .support import config_path as config_path

__all__ = [
    "DEFAULTS",
    "EXAMPLE",
    "BackupError",
    "ConfigError",
    "Directory",
    "Guidance",
    "Home",
    "HomeError",
    "Incoming",
    "IntakeService",
    "Outcome",
    "RoutingError",
    "Settings",
    "SettingsError",
    "backup_admin",
    "backup_signer",
    "build_intake",
    "check_routing",
    "config_path",
    "fingerprint",
    "followup",
    "harden",
    "in_tests",
    "init_demo",
    "make_backup",
    "offline_keys",
    "open_database",
    "purge",
    "restore_backup",
    "routing_path",
    "setup_logging",
    "sign_document",
    "vacuum_postgres",
    "verify_document",
    "warnings_for",
]
