-- How the provider app's token requests carry its client credentials, where the
-- person chose or discovery decided it: 'basic', 'post' or 'none'. NULL: the provider's
-- own (the catalog's; HTTP Basic for a custom provider).
ALTER TABLE provider_apps ADD COLUMN client_auth TEXT;
