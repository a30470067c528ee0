"""The built-in sample: a synthetic xDR extract calibrated to the reference extract's facts.

write_extract writes it (CSV, CSV.gz, Parquet) in the reference's raw format; generate_frame
returns a small one in memory. See scripts/calibrate.py for the published-vs-generated table.
"""

from .writer import generate_frame, write_extract

__all__ = ["generate_frame", "write_extract"]
