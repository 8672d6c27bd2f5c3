# The app in one container: Python 3.11 slim, the pinned requirements, a non-root user.
#   docker build -t liqmap .
#   docker run --rm -p 8501:8501 liqmap                     # http://localhost:8501
# Several replicas share one cache with -e LIQMAP_REDIS_URL=redis://HOST:6379/0 (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LIQMAP_CACHE_DIR=/var/cache/liqmap/last_good

# The app runs as "app"; the code stays root-owned (read-only to it); only the last-good store is writable.
RUN groupadd --system --gid 10001 app \
    && useradd --system --create-home --uid 10001 --gid app --shell /usr/sbin/nologin app \
    && mkdir -p /var/cache/liqmap/last_good \
    && chown -R app /var/cache/liqmap

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

USER 10001:10001
EXPOSE 8501

# No curl in the slim image: Python asks Streamlit's own health endpoint (a non-200 answer raises).
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
