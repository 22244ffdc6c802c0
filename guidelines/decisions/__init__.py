"""Signed decisions: the clinician's accept/override of each recommendation card, frozen.

One package, because a decision is only useful if it can be reopened exactly as it was
signed: what signing freezes lives next to the writes that freeze it and the reads that
reopen it.

- ``snapshot``: what a decision freezes, and the fingerprint of what the clinician was shown;
- ``services``: signing the current recommendations of a case, and the outcome of a card
  shown through CDS Hooks (the same card-feedback records);
- ``selectors``: a case's decisions, one decision, its panel as signed and how today's
  evaluation differs;
- ``forms``: the decision form of the case page (one row per card);
- ``views``: the recommendations panel's decision form, signing, the list and one decision
  "as of" its signing, mounted at /cases/<pk>/decisions/ by ``urls``;
- ``api``: the same over the API.
"""
