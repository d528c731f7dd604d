-- The full catalog: presentation, settings (term, benefits, policies, ...) as
-- JSON checked by the domain, location scope, the business's member types and
-- location slugs for public pages.

ALTER TABLE membership_types ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE membership_types ADD COLUMN color TEXT NOT NULL DEFAULT '#1f5fbf';
ALTER TABLE membership_types ADD COLUMN all_locations BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE membership_types ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

CREATE TABLE membership_type_locations (
    membership_type_id BIGINT NOT NULL REFERENCES membership_types (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    PRIMARY KEY (membership_type_id, location_id)
);
CREATE INDEX membership_type_locations_location ON membership_type_locations (location_id);

CREATE TABLE member_types (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (business_id, name)
);

ALTER TABLE locations ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX locations_slug ON locations (slug);

CREATE UNIQUE INDEX membership_type_prices_version ON membership_type_prices (membership_type_id, effective_from);
