-- The service catalogue comes from a versioned file (deploy/catalogue/). A case keeps the
-- catalogue version it was taken under, so every distinct content of an item stays loadable.

-- Each file version loaded, with a fingerprint of its content: the same version with another
-- content is refused at start.
CREATE TABLE catalogue_versions (
    version   text PRIMARY KEY,
    digest    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- Every distinct content of an item, under the catalogue version that first carried it.
CREATE TABLE service_item_versions (
    item_code         text NOT NULL,
    catalogue_version text NOT NULL,
    content           jsonb NOT NULL,
    first_loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_code, catalogue_version)
);

-- The content in force, and the version it was first carried by.
ALTER TABLE service_items
    ADD COLUMN catalogue_version text,
    ADD COLUMN content           jsonb;
