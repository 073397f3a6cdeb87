-- The catalogue filtered by direction and region, newest first (its default order), as one
-- index range read in order: the filter compares `lower(region)`, which no other index holds, so
-- PostgreSQL read every project of the direction and sorted those of the region.
CREATE INDEX projects_catalogue_idx ON projects (status, direction, lower(region), created_at DESC, id DESC);
