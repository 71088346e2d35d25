# The same app as `./gridline up`, for people who use Docker (PostGIS comes from compose).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN apt-get update && apt-get install -y --no-install-recommends gettext nodejs npm \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN DJANGO_SECRET_KEY=build python manage.py compilemessages --ignore=node_modules -v0 \
    && DJANGO_SECRET_KEY=build python manage.py collectstatic --no-input -v0
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && python manage.py demo --if-empty && python manage.py demo_logins && gunicorn config.asgi:application -c gunicorn.conf.py --bind 0.0.0.0:8000"]
