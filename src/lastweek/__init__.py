"""lastweek: weekly accomplishment reports for very large organizations."""

__version__ = "0.1.0"
