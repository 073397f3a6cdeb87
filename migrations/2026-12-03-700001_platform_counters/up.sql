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
    projects  bigint NOT NULL CHECK (projects >= 0),
    CONSTRAINT project_facet_counts_key UNIQUE NULLS NOT DISTINCT (status, direction, country, region)
);

-- Nominations per category and status, for a category's totalCount.
CREATE TABLE nomination_counts (
    category_id bigint NOT NULL,
    status      text NOT NULL,
    nominations bigint NOT NULL CHECK (nominations >= 0),
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

CREATE FUNCTION organizations_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM platform_count(CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END, 0, 0, 0);
    RETURN NULL;
END $$;
CREATE TRIGGER organizations_count_platform AFTER INSERT OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION organizations_count_platform();

CREATE FUNCTION project_facet_count(p projects, d bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO project_facet_counts AS c (status, direction, country, region, projects)
    VALUES (p.status, p.direction, p.country, lower(p.region), greatest(d, 0))
    ON CONFLICT ON CONSTRAINT project_facet_counts_key DO UPDATE SET projects = c.projects + d
$$;

CREATE FUNCTION projects_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_published int := CASE WHEN TG_OP <> 'INSERT' AND OLD.status = 'PUBLISHED' THEN 1 ELSE 0 END;
    is_published  int := CASE WHEN TG_OP <> 'DELETE' AND NEW.status = 'PUBLISHED' THEN 1 ELSE 0 END;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.direction = NEW.direction
       AND OLD.country = NEW.country AND lower(OLD.region) IS NOT DISTINCT FROM lower(NEW.region) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM project_facet_count(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM project_facet_count(NEW, 1);
    END IF;
    IF is_published <> was_published THEN
        PERFORM platform_count(0, is_published - was_published, 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_count_platform AFTER INSERT OR UPDATE OF status, direction, country, region OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_count_platform();

-- +1 or -1 accepted application of a volunteer; returns the change in `volunteers` (±1 when
-- the volunteer's count leaves or reaches zero). The row lock serializes one volunteer's
-- changes, so concurrent decisions on their applications each see the count the other left.
CREATE FUNCTION volunteer_accepted_count(volunteer bigint, d int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    now_accepted int;
BEGIN
    INSERT INTO volunteer_accepted_counts AS c (user_id, accepted) VALUES (volunteer, greatest(d, 0))
    ON CONFLICT (user_id) DO UPDATE SET accepted = c.accepted + d
    RETURNING accepted INTO now_accepted;
    IF d > 0 AND now_accepted = 1 THEN
        RETURN 1;
    ELSIF d < 0 AND now_accepted = 0 THEN
        RETURN -1;
    END IF;
    RETURN 0;
END $$;

CREATE FUNCTION applications_count_platform() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_applications int := 0;
    d_volunteers   int := 0;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.volunteer_id = NEW.volunteer_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        IF OLD.status <> 'WITHDRAWN' THEN d_applications := d_applications - 1; END IF;
        IF OLD.status = 'ACCEPTED' THEN
            d_volunteers := d_volunteers + volunteer_accepted_count(OLD.volunteer_id, -1);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.status <> 'WITHDRAWN' THEN d_applications := d_applications + 1; END IF;
        IF NEW.status = 'ACCEPTED' THEN
            d_volunteers := d_volunteers + volunteer_accepted_count(NEW.volunteer_id, 1);
        END IF;
    END IF;
    IF d_applications <> 0 OR d_volunteers <> 0 THEN
        PERFORM platform_count(0, 0, d_volunteers, d_applications);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_count_platform AFTER INSERT OR UPDATE OF status, volunteer_id OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_count_platform();

CREATE FUNCTION nominations_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE nomination_counts SET nominations = nominations - 1
        WHERE category_id = OLD.category_id AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO nomination_counts AS c (category_id, status, nominations)
        VALUES (NEW.category_id, NEW.status, 1)
        ON CONFLICT (category_id, status) DO UPDATE SET nominations = c.nominations + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER nominations_count AFTER INSERT OR UPDATE OF status, category_id OR DELETE ON nominations
    FOR EACH ROW EXECUTE FUNCTION nominations_count();

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
