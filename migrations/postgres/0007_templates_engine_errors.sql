-- Custom templates become rows of their own, so several streams can share one; each
-- stream's former inline data set becomes a template named after the stream.
CREATE TABLE templates (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    data_source  TEXT   NOT NULL,
    -- The JSON data set with $variables.
    data_set     TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX templates_account ON templates (account_id);

-- With template = 'custom': the template's row (else NULL).
ALTER TABLE streams ADD COLUMN template_id BIGINT REFERENCES templates (id);

INSERT INTO templates (account_id, name, data_source, data_set, created_at, updated_at)
    SELECT account_id, name, data_source, custom_template, created_at, updated_at
    FROM streams WHERE template = 'custom';
UPDATE streams SET template_id = (
    SELECT t.id FROM templates t WHERE t.account_id = streams.account_id AND t.name = streams.name
) WHERE template = 'custom';
ALTER TABLE streams DROP COLUMN custom_template;

-- Why the engine could not start the stream (bad settings, a spool that cannot open);
-- NULL while it runs.
ALTER TABLE stream_status ADD COLUMN engine_error TEXT;
