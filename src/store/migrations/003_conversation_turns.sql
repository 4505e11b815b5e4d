-- Vexrail schema v3: a conversation's turns are matched by content, not by position, so clients that send
-- only their latest message keep every turn (see src/conversations/turn-overlap.ts).
--
-- content_hash:  53 bits of SHA-256 of content (an exact integer in JavaScript and SQLite).
-- content_chars: the length of content in UTF-16 code units (JavaScript's String length), to compare an
--                answer with what the client was delivered (the answer plus an appended promotion).
-- Both are NULL on rows written before v3: SQLite has no SHA-256, and a backfill here would rewrite every
-- message inside the upgrade transaction. A write computes them, once, for the few stored rows it compares.
ALTER TABLE messages ADD COLUMN content_hash INTEGER;
ALTER TABLE messages ADD COLUMN content_chars INTEGER CHECK (content_chars >= 0);

-- What a write compares, covered by one index: reading a conversation's last turns touches no content pages.
CREATE INDEX messages_turns_idx ON messages (project_id, conversation_id, seq, role, content_hash, content_chars);
