-- Host names an operator allows an advertiser's product links on, besides its verified domain
-- (a JSON array of at most 20 normalized hosts; subdomains of each are included).
ALTER TABLE projects ADD COLUMN link_domains TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(link_domains) AND json_type(link_domains) = 'array');
