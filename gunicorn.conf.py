"""gunicorn settings read from the working directory (``make run``, docker-compose.yml).

The access log names the path only: a query string can hold a search term (a patient's name
or hospital identifier on the case list), and the referrer a previous page's query, so
neither is written to the log.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
