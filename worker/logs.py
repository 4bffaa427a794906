"""Log output: text for people at a terminal, one JSON object a line for log collectors (`NEWSWATCH_LOG_FORMAT`).

The command line sets this up first thing (before the other settings are read, so a settings error is logged
in the chosen format too); Celery workers and beat replace their own handlers' formatters through its
`after_setup_logger` signals (worker.celery_app), so every line a process writes has one shape. A JSON line
carries `time` (UTC, ISO 8601), `level`, `logger`, `message`, the process id, the Celery task's id and name
when one is running, every `extra={...}` field the call passed, and `exception` with the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import IO, Any

from newswatch.storage.errors import ConfigError

LOG_FORMATS = ("auto", "json", "text")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has: anything else on a record came from `extra=` and is logged as a field.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        line.update(_current_task())
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def _current_task() -> dict[str, str]:
    """The running Celery task's id and name, if this process runs tasks (Celery is never imported here)."""
    state = sys.modules.get("celery._state")
    task = state.get_current_task() if state is not None else None
    task_id = getattr(getattr(task, "request", None), "id", None)
    if task is None or task_id is None:
        return {}
    return {"task_id": str(task_id), "task_name": str(task.name)}


def log_format(environ: dict[str, str] | None = None) -> str:
    """`NEWSWATCH_LOG_FORMAT` (auto, json or text); anything else is a `ConfigError`."""
    value = (os.environ if environ is None else environ).get("NEWSWATCH_LOG_FORMAT", "").strip().lower() or "auto"
    if value not in LOG_FORMATS:
        raise ConfigError(f"config: NEWSWATCH_LOG_FORMAT: must be one of {', '.join(LOG_FORMATS)} (got {value!r})")
    return value


def wants_json(stream: IO[str], chosen: str | None = None) -> bool:
    """Whether lines to `stream` are JSON: asked for, or `auto` and the stream is no terminal."""
    chosen = chosen or log_format()
    if chosen == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (isatty is not None and isatty())
    return chosen == "json"


def formatter_for(stream: IO[str], text_format: str = TEXT_FORMAT) -> logging.Formatter:
    """The formatter for lines written to `stream`."""
    return JsonFormatter() if wants_json(stream) else logging.Formatter(text_format)


def configure_logging(level: int, stream: IO[str] | None = None) -> None:
    """Route every log record at `level` or above to `stream` (stderr) in the configured format."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(stream))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def use_json_formatters(logger: logging.Logger) -> None:
    """Give each of `logger`'s stream handlers the configured format (Celery sets up its own handlers)."""
    for handler in logger.handlers:
        stream = getattr(handler, "stream", None)
        if stream is not None and wants_json(stream):
            handler.setFormatter(JsonFormatter())
