DROP INDEX projects_catalogue_idx;
