"""gascorr: correlate plain-text, JSON-lines and HAR logs into session and request timelines."""

__version__ = "0.1.0"
