"""The catalogue's schema as ordered migrations, recorded in ``PRAGMA user_version``.

Append only: a released migration is never changed, so every catalogue can be brought up to
date (and ``vlinder reindex`` can always rebuild one from the files).
"""

MIGRATIONS: list[str] = [
    # 1: episodes and the status of each stage
    """
    CREATE TABLE episodes (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        date TEXT NOT NULL,
        speakers TEXT NOT NULL DEFAULT '[]',
        description TEXT NOT NULL DEFAULT '',
        event TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'talk',
        duration REAL NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL DEFAULT '',
        guid TEXT NOT NULL,
        audio_file TEXT NOT NULL DEFAULT '',
        audio_bytes INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX episodes_content_hash ON episodes(content_hash);
    CREATE TABLE stages (
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL,
        PRIMARY KEY (slug, stage)
    );
    """,
    # 2: chapters, fragments and their ingredient tags
    """
    CREATE TABLE chapters (
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (slug, idx)
    );
    CREATE TABLE fragments (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        chapter INTEGER NOT NULL DEFAULT 0,
        start REAL NOT NULL,
        end REAL NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (slug, idx)
    );
    CREATE TABLE fragment_tags (
        fragment_id INTEGER NOT NULL REFERENCES fragments(id) ON DELETE CASCADE,
        ingredient TEXT NOT NULL,
        score REAL NOT NULL,
        evidence TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT 'auto',
        PRIMARY KEY (fragment_id, ingredient)
    );
    CREATE INDEX fragment_tags_ingredient ON fragment_tags(ingredient);
    """,
    # jobs of the producer web app and `vlinder add --queue` (pipeline/jobs.py)
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL DEFAULT 'queued',
        stage TEXT NOT NULL DEFAULT '',
        progress REAL NOT NULL DEFAULT 0,
        eta REAL,
        message TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        upload TEXT NOT NULL DEFAULT '',
        source_name TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        slug TEXT NOT NULL DEFAULT '',
        worker TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        heartbeat TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX jobs_state ON jobs(state);
    """,
    # search (pipeline/search.py): analysed columns on fragments (one key per word: folded
    # lemma stems; compound parts), an FTS5 index over them and the raw text (external content,
    # kept in sync by triggers) and search settings (the analysis version of those columns)
    """
    ALTER TABLE fragments ADD COLUMN terms TEXT NOT NULL DEFAULT '';
    ALTER TABLE fragments ADD COLUMN parts TEXT NOT NULL DEFAULT '';
    CREATE VIRTUAL TABLE fragments_fts USING fts5(
        text, terms, parts,
        content = 'fragments', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER fragments_fts_insert AFTER INSERT ON fragments BEGIN
        INSERT INTO fragments_fts (rowid, text, terms, parts)
        VALUES (new.id, new.text, new.terms, new.parts);
    END;
    CREATE TRIGGER fragments_fts_delete AFTER DELETE ON fragments BEGIN
        INSERT INTO fragments_fts (fragments_fts, rowid, text, terms, parts)
        VALUES ('delete', old.id, old.text, old.terms, old.parts);
    END;
    CREATE TRIGGER fragments_fts_update AFTER UPDATE OF text, terms, parts ON fragments BEGIN
        INSERT INTO fragments_fts (fragments_fts, rowid, text, terms, parts)
        VALUES ('delete', old.id, old.text, old.terms, old.parts);
        INSERT INTO fragments_fts (rowid, text, terms, parts)
        VALUES (new.id, new.text, new.terms, new.parts);
    END;
    INSERT INTO fragments_fts (fragments_fts) VALUES ('rebuild');
    CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # search: each word's analysis (key; keys of its compound parts, NULL when not known yet),
    # so a new `vlinder search` process needs no lemma or frequency tables (pipeline/analysis.py)
    """
    CREATE TABLE search_words (
        word TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        parts TEXT
    ) WITHOUT ROWID;
    CREATE INDEX search_words_parts ON search_words(parts) WHERE parts != '';
    UPDATE search_meta SET value = 'reindex' WHERE key = 'analysis_version';
    """,
    # search: whether each fragment's search columns are analysed (0: not yet), so the search
    # stage's index step finds the new ones through a small partial index (pipeline.search.index)
    """
    ALTER TABLE fragments ADD COLUMN analysed INTEGER NOT NULL DEFAULT 0;
    UPDATE fragments SET analysed = 1 WHERE terms != '' OR text = '';
    CREATE INDEX fragments_unanalysed ON fragments(id) WHERE analysed = 0;
    """,
    # speakers: who speaks in each fragment (JSON list; empty when the speakers are not known
    # per fragment: then the episode's speakers count), for `vlinder search --speaker`
    """
    ALTER TABLE fragments ADD COLUMN speakers TEXT NOT NULL DEFAULT '[]';
    """,
    # 8: producer sessions, kept server-side so logging out or changing the token ends them
    # (pipeline/service/webapp/auth.py); the id is the SHA-256 of the cookie's session id,
    # "token" a fingerprint of the producer token the session was opened with
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        client TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        seen TEXT NOT NULL,
        expires TEXT NOT NULL
    );
    CREATE INDEX sessions_expires ON sessions(expires);
    """,
]
