# The warehouse service image: the loader CLI plus the dbt project, run as `warehouse run`.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --create-home --home-dir /app warehouse
WORKDIR /app
COPY --chown=warehouse . .
# Editable, so the CLI finds the dbt project (dbt_project.yml, models/, ...) next to loader/.
RUN pip install -e .
USER warehouse

ENTRYPOINT ["warehouse"]
CMD ["run"]
