-- The account a queued revocation's grant was for (the credential's subject), so that a
-- retry can tell when the person has since signed in to that account again: revoking
-- then would end the new grant too at providers that end every grant of an account to
-- one app together.
ALTER TABLE pending_revocations ADD COLUMN account_subject TEXT;
