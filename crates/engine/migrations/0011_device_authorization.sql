-- A custom provider's RFC 8628 device authorization endpoint, from OpenID discovery
-- (`device_authorization_endpoint`), for `connect --device`. NULL when it has none.
ALTER TABLE providers ADD COLUMN device_authorization_url TEXT;
