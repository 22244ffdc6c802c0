"""Signals of the planning app, for the apps above it (they listen; this app never imports
them)."""

from django.dispatch import Signal

# A procedure record was completed. Sent inside the completing transaction, so what a
# receiver writes (the follow-up schedule) exists exactly when the completion does, and a
# receiver that raises (a ValidationError) undoes the completion.
# Arguments: record (ProcedureRecord), now (aware datetime of the completion).
procedure_completed = Signal()
