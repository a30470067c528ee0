"""The slide deck (kept for callers of the old module): see report/deck/."""

from __future__ import annotations

from .deck import APPENDIX_SLIDES, FINDING_SLIDES, slide_keys, slide_titles, slides_pptx
from .deck.facts import recommendations_table

_TECHNICAL = {"model", "tracking"}
# the finding slides other than the model's two, and the topics of those two
TOPIC_SLIDES = tuple(s for s in (*FINDING_SLIDES, *APPENDIX_SLIDES) if s.key not in _TECHNICAL)
MODEL_QUALITY_TOPICS = next(s.topics for s in APPENDIX_SLIDES if s.key == "model")
TRACKING_TOPICS = next(s.topics for s in APPENDIX_SLIDES if s.key == "tracking")

__all__ = ["MODEL_QUALITY_TOPICS", "TOPIC_SLIDES", "TRACKING_TOPICS", "recommendations_table",
           "slide_keys", "slide_titles", "slides_pptx"]
