-- The resource identifier a URL's metadata names where it is not the URL itself (a
-- document at the server's root naming its origin): what token requests send as their
-- `resource` parameter (RFC 8707), written as the metadata writes it. NULL: the URL.
ALTER TABLE resources ADD COLUMN identifier TEXT;
