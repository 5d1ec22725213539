-- Answers served from the response cache: how (hit, joined) and what they saved.
ALTER TABLE generations ADD COLUMN cache TEXT;
ALTER TABLE generations ADD COLUMN saved_usd REAL;
