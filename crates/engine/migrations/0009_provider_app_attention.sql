-- Why the provider app needs the person (the provider rejected its client
-- credentials), until it is saved again or works again. NULL: all fine.
ALTER TABLE provider_apps ADD COLUMN attention TEXT;
