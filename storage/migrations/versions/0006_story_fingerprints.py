"""story fingerprints: the articles a new copy can still find re-fingerprinted with the new MinHash

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:00:00

Fingerprints were 64 SHA-1 MinHash values of 64 bits each (datasketch); they are now 64 values of 32 bits
derived from one BLAKE2b hash per word (newswatch.worker.ingest.stories). An old and a new fingerprint never
agree, so without this a copy stored after the upgrade of a story stored before it would start a story of
its own, and alert again. The articles whose bands a new article still reads (bands of the last three days,
the pipeline's STORY_WINDOW) get the new fingerprint and bands here, their bands keeping their dates; older
articles keep theirs, which nothing reads any more. Every story stays as it was.

The fingerprint is computed by ingest's own function, imported only when there is something to
re-fingerprint: a copy of it here would go on computing what the code has stopped doing the day the code
changes again. Downgrading leaves the new fingerprints (the older code never finds them: a story stored
before the downgrade is not joined by a copy stored after it, for at most three days).
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOW = timedelta(days=3)
"""The pipeline's STORY_WINDOW when this was written: how far back a new article looks for its story."""
BATCH = 500

ARTICLES = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("title", sa.Text),
    sa.column("text", sa.Text),
    sa.column("fingerprint", sa.LargeBinary),
)
BANDS = sa.table(
    "story_bands",
    sa.column("band", sa.String),
    sa.column("article_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    since = datetime.now(UTC) - WINDOW
    dated = sa.func.min(BANDS.c.created_at, type_=sa.DateTime(timezone=True))
    recent = bind.execute(
        sa.select(BANDS.c.article_id, dated)
        .where(BANDS.c.created_at >= (since.replace(tzinfo=None) if bind.dialect.name == "sqlite" else since))
        .group_by(BANDS.c.article_id)
        .order_by(BANDS.c.article_id)
    ).all()
    if not recent:
        return
    from newswatch.worker.ingest.stories import band_keys, story_fingerprint

    for start in range(0, len(recent), BATCH):
        banded = dict(recent[start : start + BATCH])  # article id -> when its bands were written
        rows = bind.execute(
            sa.select(ARTICLES.c.id, ARTICLES.c.title, ARTICLES.c.text).where(ARTICLES.c.id.in_(list(banded)))
        ).all()
        fingerprints = {article_id: story_fingerprint(text or title) for article_id, title, text in rows}
        if not fingerprints:
            continue
        bind.execute(
            ARTICLES.update().where(ARTICLES.c.id == sa.bindparam("article")).values(fingerprint=sa.bindparam("new")),
            [{"article": article_id, "new": fingerprint} for article_id, fingerprint in fingerprints.items()],
        )
        bind.execute(BANDS.delete().where(BANDS.c.article_id.in_(list(fingerprints))))
        bind.execute(
            BANDS.insert(),
            [
                {"band": band, "article_id": article_id, "created_at": banded[article_id]}
                for article_id, fingerprint in fingerprints.items()
                for band in band_keys(fingerprint)
            ],
        )


def downgrade() -> None:
    pass
