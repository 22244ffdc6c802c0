# venousapp production image: gunicorn serves the app; the same image runs the Celery
# worker and beat (see docker-compose.yml). Build: docker build -t venousapp .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # templates/, static/ and staticfiles/ live next to the packages in /app (settings
    # derive BASE_DIR from the package location), so the source tree must win over the
    # copy `pip install .` puts into site-packages.
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=venousapp.settings \
    PORT=8000

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . && rm -rf build ./*.egg-info \
    # collectstatic imports the settings, which need a key and a broker URL; neither is
    # used and neither ends up in the image's environment.
    && DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret REDIS_URL=redis://unused:6379/0 \
       python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 --gid 0 --home-dir /app --no-create-home venousapp \
    && mkdir -p /app/var \
    && chown venousapp:0 /app/var

USER 10001
EXPOSE 8000

# gunicorn binds 0.0.0.0:$PORT and starts $WEB_CONCURRENCY workers (its own env defaults).
CMD ["gunicorn", "venousapp.wsgi", "--access-logfile", "-"]
