"""Signals of the guidelines app, for the apps above it (they listen; this app never imports
them)."""

from django.dispatch import Signal

# A rule version was submitted for approval (sent once the submission is committed).
# Arguments: version (RuleVersion), submitted_by (User).
version_submitted = Signal()
