-- Envelopes are ciphertext, which does not compress: keep PostgreSQL from trying (pglz on every
-- envelope over the TOAST threshold showed in the relay's load profile) and store large ones
-- out of line as they are. Rows written before keep their storage; both read the same.
ALTER TABLE envelopes ALTER COLUMN bytes SET STORAGE EXTERNAL;
