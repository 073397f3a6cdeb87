-- Counters for what grows with the data, so that the front page and the large lists' totals read
-- a fixed number of rows however many applications, projects and nominations there are. Each is
-- kept by a trigger in the transaction that changes what it counts; `platform_recount()` tells
-- what a live count gives, for checks.

-- The front page's numbers, spread over 16 slots: a transaction adds to the slot of its backend
-- (`pg_backend_pid() % 16`), so concurrent applications and decisions do not queue on one row
-- until each commits, and one transaction never holds two slots. Readers add the 16 rows.
CREATE TABLE platform_counts (
    slot               smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
    organizations      bigint NOT NULL DEFAULT 0,
    published_projects bigint NOT NULL DEFAULT 0,
    -- People with at least one accepted application.
    volunteers         bigint NOT NULL DEFAULT 0,
    -- Applications not withdrawn.
    applications       bigint NOT NULL DEFAULT 0
);

-- Accepted applications per volunteer: a volunteer counts once in `volunteers` while this is
-- above zero. No foreign key: a deleted user's applications are deleted (and uncounted) by the
-- cascade in the same statement, in no guaranteed order with a cascade of this row.
CREATE TABLE volunteer_accepted_counts (
    user_id  bigint PRIMARY KEY,
    accepted integer NOT NULL CHECK (accepted >= 0)
);

-- Projects per status and catalogue facet (direction, country, region as the filter compares
-- it), for the catalogue's totalCount: at most one row per combination in use.
CREATE TABLE project_facet_counts (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status    text NOT NULL,
    direction text NOT NULL,
    country   text NOT NULL,
    region    text,
    -- No CHECK (projects >= 0): PostgreSQL checks the row an upsert proposes, a negative delta
    -- here, before it finds the row the delta is added to.
    projects  bigint NOT NULL,
    CONSTRAINT project_facet_counts_key UNIQUE NULLS NOT DISTINCT (status, direction, country, region)
);

-- Nominations per category and status, for a category's totalCount.
CREATE TABLE nomination_counts (
    category_id bigint NOT NULL,
    status      text NOT NULL,
    -- No CHECK: see project_facet_counts.
    nominations bigint NOT NULL,
    PRIMARY KEY (category_id, status)
);

CREATE FUNCTION platform_count(d_organizations bigint, d_published_projects bigint,
                               d_volunteers bigint, d_applications bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE platform_counts
    SET organizations = organizations + d_organizations,
        published_projects = published_projects + d_published_projects,
        volunteers = volunteers + d_volunteers,
        applications = applications + d_applications
    WHERE slot = pg_backend_pid() % 16
$$;

-- The triggers below run once per statement over its transition tables (`old_rows`,
-- `new_rows`): a statement that changes many rows (an organization deleted with its projects and
-- their applications) updates each counter row once, where a trigger per row would update the
-- same row once per changed row, each time adding a version the next update has to step over.
-- Each kind of statement (INSERT, UPDATE, DELETE) has its own trigger, as transition tables
-- require; the functions read whichever tables their event has.

CREATE FUNCTION organizations_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO d FROM new_rows;
    ELSE
        SELECT -count(*) INTO d FROM old_rows;
    END IF;
    IF d <> 0 THEN
        PERFORM platform_count(d, 0, 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER organizations_count_platform_insert AFTER INSERT ON organizations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION organizations_count_platform();
CREATE TRIGGER organizations_count_platform_delete AFTER DELETE ON organizations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION organizations_count_platform();

-- A statement's changes, +1 for each row after it and -1 for each row before it, summed by the
-- key each counter is kept for (the transition tables that exist depend on the event).
CREATE TYPE project_count_change AS (status text, direction text, country text, region text, d int);

CREATE FUNCTION projects_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes project_count_change[];
    d_published bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        changes := ARRAY(SELECT ROW(status, direction, country, lower(region), 1)::project_count_change FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        changes := ARRAY(SELECT ROW(status, direction, country, lower(region), -1)::project_count_change FROM old_rows);
    ELSE
        changes := ARRAY(SELECT c FROM new_rows n JOIN old_rows o ON o.id = n.id,
                             LATERAL (VALUES (ROW(n.status, n.direction, n.country, lower(n.region), 1)::project_count_change),
                                             (ROW(o.status, o.direction, o.country, lower(o.region), -1)::project_count_change)) v(c)
                         WHERE (n.status, n.direction, n.country, lower(n.region))
                               IS DISTINCT FROM (o.status, o.direction, o.country, lower(o.region)));
    END IF;
    INSERT INTO project_facet_counts AS c (status, direction, country, region, projects)
    SELECT status, direction, country, region, sum(d) FROM unnest(changes)
    GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT project_facet_counts_key DO UPDATE SET projects = c.projects + EXCLUDED.projects;
    SELECT coalesce(sum(d), 0) INTO d_published FROM unnest(changes) WHERE status = 'PUBLISHED';
    IF d_published <> 0 THEN
        PERFORM platform_count(0, d_published, 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_count_platform_insert AFTER INSERT ON projects
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_count_platform();
CREATE TRIGGER projects_count_platform_update AFTER UPDATE ON projects
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_count_platform();
CREATE TRIGGER projects_count_platform_delete AFTER DELETE ON projects
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_count_platform();

-- A volunteer counts once in `volunteers` while their accepted count is above zero: the change
-- in `volunteers` is the number of counts that left zero less the number that reached it. The
-- row locks serialize each volunteer's changes, so concurrent decisions on one volunteer's
-- applications each add to the count the other left.
CREATE TYPE application_count_change AS (volunteer_id bigint, status text, d int);

CREATE FUNCTION applications_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes application_count_change[];
    d_applications bigint;
    d_volunteers   bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        changes := ARRAY(SELECT ROW(volunteer_id, status, 1)::application_count_change FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        changes := ARRAY(SELECT ROW(volunteer_id, status, -1)::application_count_change FROM old_rows);
    ELSE
        -- Most updates change no counted column (a message, `updated_at`): only rows that did.
        changes := ARRAY(SELECT c FROM new_rows n JOIN old_rows o ON o.id = n.id,
                             LATERAL (VALUES (ROW(n.volunteer_id, n.status, 1)::application_count_change),
                                             (ROW(o.volunteer_id, o.status, -1)::application_count_change)) v(c)
                         WHERE n.status <> o.status OR n.volunteer_id <> o.volunteer_id);
    END IF;
    IF cardinality(changes) = 0 THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(d) FILTER (WHERE status <> 'WITHDRAWN'), 0) INTO d_applications FROM unnest(changes);
    WITH per_volunteer AS (
        SELECT volunteer_id, sum(d)::int AS d FROM unnest(changes)
        WHERE status = 'ACCEPTED' GROUP BY 1 HAVING sum(d) <> 0
    ), raised AS (
        INSERT INTO volunteer_accepted_counts AS c (user_id, accepted)
        SELECT volunteer_id, d FROM per_volunteer WHERE d > 0 ORDER BY volunteer_id
        ON CONFLICT (user_id) DO UPDATE SET accepted = c.accepted + EXCLUDED.accepted
        RETURNING c.user_id, c.accepted
    ), lowered AS (
        UPDATE volunteer_accepted_counts c SET accepted = c.accepted + p.d
        FROM per_volunteer p WHERE p.d < 0 AND c.user_id = p.volunteer_id
        RETURNING c.user_id, c.accepted
    )
    SELECT (SELECT count(*) FROM raised r JOIN per_volunteer p ON p.volunteer_id = r.user_id
            WHERE r.accepted = p.d)
         - (SELECT count(*) FROM lowered WHERE accepted = 0)
    INTO d_volunteers;
    IF d_applications <> 0 OR d_volunteers <> 0 THEN
        PERFORM platform_count(0, 0, d_volunteers, d_applications);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_count_platform_insert AFTER INSERT ON applications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION applications_count_platform();
CREATE TRIGGER applications_count_platform_update AFTER UPDATE ON applications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION applications_count_platform();
CREATE TRIGGER applications_count_platform_delete AFTER DELETE ON applications
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION applications_count_platform();

CREATE TYPE nomination_count_change AS (category_id bigint, status text, d int);

CREATE FUNCTION nominations_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes nomination_count_change[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        changes := ARRAY(SELECT ROW(category_id, status, 1)::nomination_count_change FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        changes := ARRAY(SELECT ROW(category_id, status, -1)::nomination_count_change FROM old_rows);
    ELSE
        changes := ARRAY(SELECT c FROM new_rows n JOIN old_rows o ON o.id = n.id,
                             LATERAL (VALUES (ROW(n.category_id, n.status, 1)::nomination_count_change),
                                             (ROW(o.category_id, o.status, -1)::nomination_count_change)) v(c)
                         WHERE n.status <> o.status OR n.category_id <> o.category_id);
    END IF;
    INSERT INTO nomination_counts AS c (category_id, status, nominations)
    SELECT category_id, status, sum(d) FROM unnest(changes)
    GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
    ON CONFLICT (category_id, status) DO UPDATE SET nominations = c.nominations + EXCLUDED.nominations;
    RETURN NULL;
END $$;
CREATE TRIGGER nominations_count_insert AFTER INSERT ON nominations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION nominations_count();
CREATE TRIGGER nominations_count_update AFTER UPDATE ON nominations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION nominations_count();
CREATE TRIGGER nominations_count_delete AFTER DELETE ON nominations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION nominations_count();

-- Sets every counter of this migration from the rows (a bulk load that bypassed the triggers,
-- as bench/seed.sql does, calls it once at its end). Locks out writers while it counts.
CREATE FUNCTION platform_recount() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE organizations, projects, applications, nominations IN SHARE MODE;
    DELETE FROM platform_counts;
    INSERT INTO platform_counts (slot) SELECT g FROM generate_series(0, 15) g;
    UPDATE platform_counts SET
        organizations = (SELECT count(*) FROM organizations),
        published_projects = (SELECT count(*) FROM projects WHERE status = 'PUBLISHED'),
        volunteers = (SELECT count(DISTINCT volunteer_id) FROM applications WHERE status = 'ACCEPTED'),
        applications = (SELECT count(*) FROM applications WHERE status <> 'WITHDRAWN')
    WHERE slot = 0;
    DELETE FROM volunteer_accepted_counts;
    INSERT INTO volunteer_accepted_counts (user_id, accepted)
    SELECT volunteer_id, count(*) FROM applications WHERE status = 'ACCEPTED' GROUP BY 1;
    DELETE FROM project_facet_counts;
    INSERT INTO project_facet_counts (status, direction, country, region, projects)
    SELECT status, direction, country, lower(region), count(*) FROM projects GROUP BY 1, 2, 3, 4;
    DELETE FROM nomination_counts;
    INSERT INTO nomination_counts (category_id, status, nominations)
    SELECT category_id, status, count(*) FROM nominations GROUP BY 1, 2;
END $$;

SELECT platform_recount();
