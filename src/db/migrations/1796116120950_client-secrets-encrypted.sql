-- Up Migration

-- Signing secrets are stored encrypted (src/clients/secret-box.ts): `secret` holds base64 of AES-256-GCM of the
-- whsec_ value under the SECRETS_ENCRYPTION_KEYS key that `key_id` names. NULL key_id: plain text, as every row
-- was before this migration. SQL cannot encrypt without the key: the worker and the API encrypt such rows at
-- start-up (checkSecretsAtRest), and `npm run secrets:reencrypt` moves every row to the current key.
ALTER TABLE client_secrets ADD COLUMN key_id text;
ALTER TABLE client_secrets ADD CONSTRAINT client_secrets_plain_is_whsec CHECK (key_id IS NOT NULL OR secret LIKE 'whsec\_%');
COMMENT ON COLUMN client_secrets.secret IS 'base64 AES-256-GCM ciphertext under key_id; plain whsec_ text only while key_id IS NULL';

-- Down Migration
-- Rows encrypted since cannot be read back by the old code: decrypt them (npm run secrets:reencrypt cannot) before going down.
ALTER TABLE client_secrets DROP CONSTRAINT client_secrets_plain_is_whsec;
ALTER TABLE client_secrets DROP COLUMN key_id;
