"""Writes of the follow-up app, one module per subdomain:

- ``clock``: the centre's local date and hour (visits are due by the centre's calendar);
- ``protocols``: default protocols, the active version, revisions;
- ``schedules``: a completed procedure's schedule, its visits and reminders, lifelong extension;
- ``visits``: contact attempts, rescheduling and closing a planned visit;
- ``results``: visit results and re-interventions;
- ``escalations``: abnormal findings raised to the responsible clinician, acknowledged, decided;
- ``reports``: the patency analytics, inline or by a Celery worker.

Every write is atomic, validated (``full_clean``) and leaves a history row naming its author
(``venousapp.history``). Time is a parameter (``now``); the centre's local date decides what is
"today" for a visit. Delivery of reminders and notices lives in ``followup.notifications``.
"""
