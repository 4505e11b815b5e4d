-- Host names an operator allows an advertiser's product links on, besides its verified domain
-- (a JSON array of at most 20 normalized hosts; subdomains of each are included), as
-- ../migrations/004_link_domains.sql.
--
-- SQLite checks json_valid(...) AND json_type(...) = 'array'. A cast of invalid text to json raises a parse
-- error, not a check violation; this function turns it into false, so a bad value fails the CHECK as in SQLite.
CREATE FUNCTION vexrail_is_json_array(value TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN json_typeof(value::json) = 'array';
EXCEPTION WHEN invalid_text_representation THEN
  RETURN FALSE;
END
$$;

ALTER TABLE projects ADD COLUMN link_domains TEXT NOT NULL DEFAULT '[]'
  CHECK (vexrail_is_json_array(link_domains));
