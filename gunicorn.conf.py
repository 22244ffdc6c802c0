"""gunicorn settings read from the working directory (``make run``, docker-compose.yml).

The access log names the path only: a query string can hold a search term (a patient's name
or hospital identifier on the case list), and the referrer a previous page's query, so
neither is written to the log.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker: object) -> None:
    """Load every view, then move what start-up made into the garbage collector's permanent
    generation (``gc.freeze``): a full collection then walks only what requests allocate
    instead of the whole loaded application, which paused a worker for a tenth of a second
    or more under load (the FHIR models alone are hundreds of classes)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL configuration and its views
    gc.freeze()
