FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime lock: every package pinned with its hashes (docs/operations.md, "Dependencies").
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
# The portal runs as an unprivileged user; the media volume is created owned by it.
RUN useradd --create-home --uid 1000 --user-group portal \
    && mkdir -p /data/media && chown portal:portal /data/media
COPY . .
# Collect in production mode so that whitenoise gets its compressed files and the
# manifest of hashed names that production pages link to (no secret is baked in).
RUN PORTAL_MODE=production SECRET_KEY=collectstatic-only-not-a-runtime-secret-0123456789abcdef \
        ALLOWED_HOSTS=localhost PAYMENT_GATEWAY=sandbox python manage.py collectstatic --noinput
USER portal
EXPOSE 8000
# gunicorn.conf.py: the WSGI app, 0.0.0.0:8000, 3 workers of 4 threads (WEB_CONCURRENCY, WEB_THREADS).
CMD ["gunicorn"]
