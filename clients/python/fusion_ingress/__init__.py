"""Python client of the FusionActors WebSocket ingress (docs/ingress.md)."""

from .client import FencedError, FusionSessionError, IngressSession, ReplayLog
from . import avdigits, wire

__all__ = ["IngressSession", "ReplayLog", "FusionSessionError", "FencedError", "avdigits", "wire"]
