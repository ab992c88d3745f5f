# One image for every service; the compose `command` picks which one runs,
# e.g. `["run", "registration"]`. The healthcheck is in docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group conference

# Noto for every script on badges and documents (Noto CJK is made TrueType below)
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared/ ./shared/
COPY services/ ./services/
ENV FONTS_DIR=/usr/local/share/fonts/ecsite-conference
RUN pip install --no-cache-dir . \
    && conference fonts \
    && rm -rf build *.egg-info \
    && mkdir -p /app/var \
    && chown conference:conference /app/var

# The services keep nothing on disk when <SERVICE>_DATABASE_URL is set; var/ is
# only the fallback for SQLite files.
ENV VAR_DIR=/app/var
USER conference

ENTRYPOINT ["conference"]
