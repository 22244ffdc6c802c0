"""Writes of the guideline-admin workflow, one module per subdomain:

- ``authoring``: drafts, their test cases, submission, approval (publication), retirement and
  restore of rule versions, and the rule-set number every publish moves;
- ``transfer``: the published rule set exported as one JSON document, and imported back as
  drafts;
- ``impact_previews``: the impact preview of a draft as a background job (the comparison of
  two rule sets over the stored cases is ``guidelines.impact``, shared with the
  re-evaluation, which is why it is not here);
- ``reevaluation``: the stored cases' overall statuses brought up to the published rule set
  after a publish, on a deploy or by hand;
- ``resume``: what the periodic sweep asks of this app: its jobs left queued sent again;
- ``common``: helpers the modules above share (not for callers outside this package).

Functions are keyword-only, atomic, raise ``ValidationError`` with messages meant for the
guideline admin (``PermissionDenied`` for a missing role permission), and leave a history
row with the acting user for every change (``venousapp.history``; API calls authenticated
outside the session would otherwise be anonymous in the trail).
"""
