-- A provider app may set the device authorization endpoint (RFC 8628) by hand, like
-- its other endpoints; NULL: the provider's own.
ALTER TABLE provider_apps ADD COLUMN device_authorization_url TEXT;
