"""The coded values of a case that every app reads: lesion entities, the segment sets the
rules and the planner use, and the overall statuses a case can be given
(docs/evaluation.md#segment-sets, docs/evaluation.md#overall-status). One definition each;
the models' choices, the guideline engine's vocabulary (``guidelines/vocabulary.py``), the
planner and the follow-up app import them.
Pure Python: no Django import.
"""

from __future__ import annotations

LESION_ENTITIES = (
    "acute_thrombotic",
    "chronic_post_thrombotic",
    "nivl",
    "iliocaval_atresia",
    "ivc_occlusion",
)
ACUTE_ENTITY = "acute_thrombotic"
# Every entity that is treated as an established (non-acute) obstruction.
CHRONIC_ENTITIES = frozenset(
    {"chronic_post_thrombotic", "nivl", "iliocaval_atresia", "ivc_occlusion"}
)

# The segment sets, exactly as docs/evaluation.md#segment-sets defines them. The stentable
# segments are listed from cranial to caudal, the order in which the planner proposes stents.
STENTABLE_SEGMENTS = ("IVC", "CIV", "EIV", "CFV")
ILIOFEMORAL_SEGMENTS = frozenset({"CIV", "EIV", "CFV"})
FEMOROPOPLITEAL_SEGMENTS = frozenset({"FV", "POPV"})

# The overall status of a case, in precedence order: the first that applies wins
# (docs/evaluation.md#overall-status). Stored on the case, so its choices live with the case.
OVERALL_STATUSES = (
    "contraindicated_defer",
    "insufficient_data",
    "etr_candidate",
    "stent_conflict",
    "stent_indicated",
    "anticoagulation_only",
    "conservative",
)
# The statuses that come with a planning block, so a procedure plan can be made.
PLANNING_STATUSES = frozenset({"etr_candidate", "stent_indicated", "stent_conflict"})
