# Production image (Cloud Run ready): the Reflex panel with the FastAPI service mounted, on $PORT.
# The frontend is compiled and exported at build time, so the container needs no Node at run time.
# The webhook/API service alone is the same image with: python -m runtime serve
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFLEX_USE_NPM=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    APP_ENV=production \
    PORT=8080 \
    PATH=/app/.venv/bin:$PATH

# OCR (tesseract with Portuguese data), ffmpeg (voice notes <-> OGG/Opus), espeak-ng (offline voice).
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-por ffmpeg espeak-ng \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN python -m venv /app/.venv && pip install --no-cache-dir -r requirements.txt -c constraints.txt

COPY . .
# SECRET_KEY here only lets the app module import during the build; the real one comes at run time.
# The export bakes the websocket port into the bundle: behind https (Cloud Run) the port is dropped.
RUN SECRET_KEY=build-only REFLEX_FRONTEND_PORT=8080 REFLEX_BACKEND_PORT=8080 \
        reflex export --frontend-only --no-zip --env prod \
    && test -f .web/build/client/index.html \
    && useradd --system --uid 10001 --home /app app \
    && mkdir -p .states && chown -R app /app/.web /app/.states

USER app
EXPOSE 8080
# Serve the exported pages + websocket + /auth + /api from one ASGI app, without recompiling.
CMD ["sh", "-c", "REFLEX_ENV_MODE=prod __REFLEX_SKIP_COMPILE=true __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true exec granian --interface asgi --factory --host 0.0.0.0 --port ${PORT} webapp.webapp:app"]
