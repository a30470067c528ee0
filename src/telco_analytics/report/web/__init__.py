"""The pieces of the HTML report (see report.html)."""
