"""The thrombolysis-contraindication checklist of the case form (brief §4.5).

The items themselves belong to the guideline catalogue (SIR QI guideline, Vedantham et al.,
JVIR 2014;25:1317–1325, in ``guidelines.vocabulary``); a case's class is derived from its
ticks once the checklist was assessed: any absolute item makes it absolute, else any relative
item makes it relative, else none.
"""

from collections.abc import Iterable

from guidelines.vocabulary import ABSOLUTE, ABSOLUTE_CODES, RELATIVE, RELATIVE_CODES

__all__ = ["ABSOLUTE", "RELATIVE", "contraindication_class"]


def contraindication_class(codes: Iterable[str]) -> str:
    """'absolute', 'relative' or 'none' for the ticked checklist items of an assessed case."""
    ticked = set(codes)
    if ticked & ABSOLUTE_CODES:
        return "absolute"
    if ticked & RELATIVE_CODES:
        return "relative"
    return "none"
