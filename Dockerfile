FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY storage ./storage
COPY alerts ./alerts
COPY seeds ./seeds
RUN pip install --no-cache-dir ".[flower]"
ENTRYPOINT ["newswatch"]
CMD ["run"]
