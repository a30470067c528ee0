"""Sentences for slides: complete, naming their subject, shortened by rewording, never cut.

A finding's text is a paragraph; a bullet shows one sentence of it. When that sentence does not
fit, a shorter complete sentence is offered in its place (long asides left out, or the main
clause before a colon or semicolon), and the layout picks the longest one that fits by measuring
it. A sentence that starts by pointing back ("These users ...", "It is ...") is never shown
alone: without its predecessor the reader cannot tell what it means.
"""

from __future__ import annotations

import re

# words that refer to a previous sentence when they open one
BACK_REFERENCES = ("these", "them", "this", "they", "it", "that", "their", "those", "its",
                   "such", "both")


def starts_with_back_reference(text: str) -> bool:
    first = re.match(r"\W*(\w+)", text)
    return bool(first) and first.group(1).lower() in BACK_REFERENCES


def _depths(text: str) -> list[int]:
    """Parenthesis depth at each character (0 = outside any parenthesis)."""
    depth, out = 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        out.append(depth)
        if ch == ")":
            depth = max(0, depth - 1)
    return out


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph: split after . ! ? followed by a space and a capital or a
    digit, outside parentheses (so "9.16E+015" or "(2.1x. ...)" never split one)."""
    text = " ".join(text.split())
    depth = _depths(text)
    out, start = [], 0
    for m in re.finditer(r"[.!?](?=\s+[A-Z0-9])", text):
        if depth[m.start()] == 0:
            out.append(text[start:m.end()].strip())
            start = m.end()
    rest = text[start:].strip()
    return [s for s in [*out, rest] if s]


def _end(text: str) -> str:
    text = re.sub(r"\s+([,;:.])", r"\1", " ".join(text.split())).rstrip(",;: ")
    return text if text.endswith((".", "!", "?")) else text + "."


def _without_asides(text: str, min_len: int = 12) -> list[str]:
    """The sentence with its top-level parentheticals left out, longest aside first."""
    depth = _depths(text)
    spans, start = [], None
    for i, ch in enumerate(text):
        if ch == "(" and depth[i] == 1:
            start = i
        if ch == ")" and depth[i] == 1 and start is not None:
            spans.append((start, i + 1))
            start = None
    spans = sorted((s for s in spans if s[1] - s[0] > min_len), key=lambda s: s[0] - s[1])
    out, current = [], text
    removed: list[tuple[int, int]] = []
    for a, b in spans:
        removed.append((a, b))
        kept, last = [], 0
        for x, y in sorted(removed):
            kept.append(text[last:x].rstrip())
            last = y
        kept.append(text[last:])
        current = " ".join(part for part in kept if part)
        out.append(_end(current))
    return out


def _main_clause(text: str) -> list[str]:
    """The sentence up to each top-level colon or semicolon, shortest last (each a clause that
    stands as a sentence: what follows a colon elaborates, it does not complete)."""
    depth = _depths(text)
    cuts = [m.start() for m in re.finditer(r"[;:] ", text) if depth[m.start()] == 0]
    return [_end(text[:c]) for c in reversed(cuts) if c >= 25]


def variants(text: str, *, sentences_max: int = 1) -> list[str]:
    """Complete sentences that say the point of `text`, longest first: its first sentences,
    then shorter rewordings of the first. [] when the text opens with a back-reference."""
    parts = sentences(text)
    if not parts or starts_with_back_reference(parts[0]):
        return []
    out: list[str] = []
    for n in range(min(sentences_max, len(parts)), 1, -1):
        if not any(starts_with_back_reference(p) for p in parts[1:n]):
            out.append(" ".join(parts[:n]))
    first = _end(parts[0])
    out.append(first)
    for shorter in [*_without_asides(first), *_main_clause(first)]:
        out.append(shorter)
        out.extend(_without_asides(shorter))
    seen: dict[str, None] = {}
    for v in out:
        if v not in seen and not starts_with_back_reference(v):
            seen[v] = None
    return sorted(seen, key=len, reverse=True)


def check_text(text: str) -> str | None:
    """Why a slide text is unfit to show (ends cut, or points back), else None."""
    stripped = text.strip()
    if stripped.endswith(("...", "…")):
        return "ends in an ellipsis"
    if starts_with_back_reference(stripped):
        return "starts with a word that points back to a previous sentence"
    return None
