"""The notes of data-quality flags: one English template per kind of note, to write and to read.

Every ``note`` with figures that a check writes into a flag table
(:func:`fpanalysis.quality.check_all`) is written by :func:`note` from a template of
:data:`TEMPLATES` and pieces the check formats as text. :func:`parse` reads a note back into
its template key and pieces with one anchored pattern made from that same template, so a
report in another language (:func:`fpanalysis.report.flag_table` in Chinese) writes its own
sentence around exactly the English note's numbers, character for character. A note that no
template wrote reads as ``None`` (the report then shows the English note).

The flag table keeps the English text as its only record of the note: with pandas' string
dtype a column of text keeps no per-value object, and the table's columns are fixed
(:data:`~fpanalysis.quality.FLAG_COLUMNS`).

Examples
--------
>>> n = note("missing", months="2024-05")
>>> n
'missing 2024-05'
>>> parse(n)
('missing', {'months': '2024-05'})
>>> parse("missing") is None, parse("") is None
(True, True)
"""

from __future__ import annotations

import re

__all__ = ["TEMPLATES", "note", "parse"]

#: The English template of each note key; every piece is text, formatted by the check.
TEMPLATES: dict[str, str] = {
    "missing": "missing {months}",
    "late": "late {months}",
    "cells": "{present} of {cells} cells filled",
    "outlier": "{value} against a mean of {mean} (SD {sd}, median {median}) over {used} months",
    "funnel": "{value} against the county's {county} (99.8 % limits {lower}-{upper}, widened "
              "for over-dispersion)",
    "sources": "register {register} vs other {other}: ratio {ratio} ({confidence} CI "
               "{lower}-{upper}) outside 1 ± {tolerance}",
    "sex_ratio": "{boys} boys, {girls} girls: sex ratio {ratio} ({lower}-{upper}) against "
                 "{reference}",
    "heaping": "Whipple {whipple} ({lower}-{upper}) over ages {ages}",
    "audit": "{false} false of {checked} re-checked (false share {share}, exact interval "
             "{lower}-{upper})",
}


#: Pieces of a note that are text (month labels, age ranges); every other piece is a number
#: as the checks format it (``12``, ``-2.14``, ``1.43e-06``, ``36.4%``, ``inf``).
_TEXT_PIECES = ("months", "ages")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|inf|nan)%?"
#: A text piece: labels without spaces or brackets, joined by ", " ("2024-05, 2024-07",
#: "23-62"), so that a note with more words after it is not read as this template's.
_LABELS = r"[^\s,()]+(?:, [^\s,()]+)*"


def _pattern(template: str) -> re.Pattern[str]:
    """One anchored pattern per template, made from the template itself: a note can only be
    read back with the template it was written with."""
    out, at = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[at:m.start()]))
        name = m.group(1)
        out.append(f"(?P<{name}>{_LABELS if name in _TEXT_PIECES else _NUMBER})")
        at = m.end()
    out.append(re.escape(template[at:]))
    return re.compile("".join(out))


_PATTERNS = {key: _pattern(t) for key, t in TEMPLATES.items()}


def note(key: str, **parts: str) -> str:
    """The note ``key`` of :data:`TEMPLATES` filled with ``parts`` (text, already formatted
    by the check)."""
    if key not in TEMPLATES:
        raise ValueError(f"unknown note key {key!r}; known: {', '.join(TEMPLATES)}")
    if not all(isinstance(v, str) for v in parts.values()):
        raise TypeError("the pieces of a note must be text, formatted by the check")
    return TEMPLATES[key].format(**parts)


def parse(text: object) -> tuple[str, dict[str, str]] | None:
    """The template key and the pieces of a note :func:`note` wrote, or ``None`` when
    ``text`` is not such a note (empty, missing, or written otherwise). Only a reading that
    writes back to exactly ``text`` is returned, so a piece is never cut wrongly."""
    if not isinstance(text, str) or not text:
        return None
    for key, pattern in _PATTERNS.items():
        m = pattern.fullmatch(text)
        if m is not None and TEMPLATES[key].format(**m.groupdict()) == text:
            return key, m.groupdict()
    return None
