-- How much more than is due a payment taken by hand may bring, in whole
-- units of the business's currency (the rest becomes account credit). It
-- bounds what a typing slip can turn into credit.
ALTER TABLE businesses ADD COLUMN overpayment_limit BIGINT NOT NULL DEFAULT 500;
