"""Charts, report.html and slides.pptx built from a run's tables."""
