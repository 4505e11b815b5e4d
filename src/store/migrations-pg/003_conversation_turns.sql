-- Vexrail schema v3 (PostgreSQL), as ../migrations/003_conversation_turns.sql: a conversation's turns are
-- matched by content (content_hash: 53 bits of SHA-256; content_chars: length in UTF-16 code units).
-- NULL on rows written before v3; a write computes them for the few stored rows it compares.
ALTER TABLE messages ADD COLUMN content_hash BIGINT;
ALTER TABLE messages ADD COLUMN content_chars BIGINT CHECK (content_chars >= 0);

CREATE INDEX messages_turns_idx ON messages (project_id, conversation_id, seq, role, content_hash, content_chars);
