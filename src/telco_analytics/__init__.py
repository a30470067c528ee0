"""telco-analytics: user analytics for mobile-operator xDR session records."""

__version__ = "0.1.0"
