-- Fields of the token answer a provider's catalog entry keeps with the credential, as a
-- JSON object of strings (Salesforce's instance_url: where the org's APIs are called).
-- Never a token. NULL: none kept.
ALTER TABLE credentials ADD COLUMN token_details TEXT;
