-- Benchmark volume: 200 organizations, 5,000 projects, an award in its voting phase with 10
-- categories, 2,000 nominations, 200,000 users (20,000 of them voters) with 200,000 votes,
-- 1,000,000 applications (a third accepted), 10,000 posts with view counts, 100,000 subscribers.
-- psql -v scale=1 (default) multiplies nothing; scale=10 is the national volume (docs/scale.md);
-- scale=0.05 gives a small run for CI.
--
-- The large leaf tables are filled unlogged (no WAL per row) and set logged afterwards, which
-- writes each once as a whole; triggers are off and the counters they keep are set in bulk.
\set ON_ERROR_STOP on
\if :{?scale}
\else
\set scale 1
\endif

ALTER TABLE applications SET UNLOGGED;
ALTER TABLE votes SET UNLOGGED;
ALTER TABLE vote_events SET UNLOGGED;
ALTER TABLE email_subscriptions SET UNLOGGED;

BEGIN;
-- Counters are set in bulk below instead of row by row through the triggers (and foreign keys,
-- triggers too, are not checked: every id below is taken from the rows just written).
SET LOCAL session_replication_role = replica;
SET LOCAL maintenance_work_mem = '512MB';

INSERT INTO organizations (slug, name, description, kind, country, region, city, verified, created_at)
SELECT 'bench-org-' || g,
       jsonb_build_object('kk', 'Ұйым ' || g, 'ru', 'Организация ' || g, 'en', 'Organization ' || g),
       jsonb_build_object('kk', 'Волонтерлік ұйым', 'ru', 'Волонтерская организация', 'en', 'A volunteer organization'),
       (ARRAY['NGO','CLUB','NETWORK','INITIATIVE_GROUP'])[1 + g % 4], (ARRAY['KZ','RU'])[1 + g % 2],
       'Region ' || (g % 17), 'City ' || (g % 31), g % 3 = 0, now() - (g || ' hours')::interval
FROM generate_series(1, greatest(1, (200 * :scale)::int)) g;

INSERT INTO projects (slug, organization_id, title, summary, description, direction, status, country, region, city,
                      starts_at, volunteers_needed, created_at, published_at)
SELECT 'bench-project-' || g, o.id,
       jsonb_build_object('kk', 'Жоба ' || g, 'ru', 'Проект ' || g, 'en', 'Project ' || g),
       jsonb_build_object('kk', 'Қысқаша', 'ru', 'Кратко', 'en', 'Summary'),
       jsonb_build_object('kk', 'Сипаттама', 'ru', 'Описание', 'en', 'Description'),
       (ARRAY['SOCIAL','EVENTS','ANIMALS','ETHNO','EMERGENCY','MEDICAL','CULTURE','MEDIA','ONLINE','ENVIRONMENT','EDUCATION','SPORTS','SILVER'])[1 + g % 13],
       'PUBLISHED', o.country, o.region, o.city, now() + (g % 90 || ' days')::interval, 10 + g % 50,
       now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
FROM generate_series(1, greatest(1, (5000 * :scale)::int)) g
JOIN organizations o ON o.slug = 'bench-org-' || (1 + g % greatest(1, (200 * :scale)::int));

UPDATE organizations o SET published_project_count = c.n
FROM (SELECT organization_id, count(*) n FROM projects WHERE status = 'PUBLISHED' GROUP BY 1) c
WHERE c.organization_id = o.id;

INSERT INTO awards (slug, title, description, year, countries, nomination_opens_at, nomination_closes_at,
                    voting_opens_at, voting_closes_at, live_counts)
VALUES ('bench-award', '{"kk":"Жыл волонтері","ru":"Волонтер года","en":"Volunteer of the Year"}', '{}', 2026, '{KZ,RU}',
        now() - interval '60 days', now() - interval '30 days', now() - interval '29 days', now() + interval '30 days', true);

INSERT INTO award_categories (award_id, position, title)
SELECT a.id, g, jsonb_build_object('kk', 'Санат ' || g, 'ru', 'Категория ' || g, 'en', 'Category ' || g)
FROM awards a, generate_series(1, 10) g WHERE a.slug = 'bench-award';

-- Triggers are off during the load, so the nominee's identity is written here by the same
-- function its trigger calls.
INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country, status, created_at,
                         nominee_identity)
SELECT c.id, 'Nominee ' || g, 'nominee ' || g, 'PERSON', 'Deserves it.', 'KZ', 'APPROVED', now() - interval '40 days',
       nominee_identity_of('PERSON', NULL, NULL, 'KZ', 'Nominee ' || g)
FROM generate_series(1, greatest(10, (2000 * :scale)::int)) g
JOIN award_categories c ON c.position = 1 + g % 10
JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-award';

INSERT INTO users (email, display_name, email_verified_at)
SELECT 'voter' || g || '@bench.kz', 'Voter ' || g, now()
FROM generate_series(1, greatest(1, (20000 * :scale)::int)) g;

-- Every voter votes in every category, for a nomination picked by a skewed hash so counts differ.
WITH noms AS (
    SELECT n.category_id, array_agg(n.id ORDER BY n.id) AS ids
    FROM nominations n JOIN award_categories c ON c.id = n.category_id
    JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-award'
    GROUP BY n.category_id
)
INSERT INTO votes (user_id, category_id, nomination_id)
SELECT u.id, noms.category_id,
       noms.ids[1 + floor(((abs(hashint4(u.id::int * 31 + noms.category_id::int)) % 1000) / 1000.0) ^ 2
                          * cardinality(noms.ids))::int]
FROM users u CROSS JOIN noms
WHERE u.email LIKE 'voter%@bench.kz';

-- With forensics as the api records them (docs/integrity.md): 5,000 networks, 40 browsers, the
-- votes spread over the ten days of voting, so the integrity report has real work to do.
INSERT INTO vote_events (vote_id, user_id, category_id, kind, to_nomination_id, created_at,
                         net_hash, addr_hash, ua_hash)
SELECT v.id, v.user_id, v.category_id, 'CAST', v.nomination_id,
       now() - interval '10 days' * (abs(hashint8(v.id)) % 1000000) / 1000000.0,
       hashint8(v.user_id % 5000), hashint8(v.user_id), hashint8(v.user_id % 40)
FROM votes v;

UPDATE nominations n SET vote_count = c.n FROM (SELECT nomination_id, count(*) n FROM votes GROUP BY 1) c
WHERE c.nomination_id = n.id;
UPDATE award_categories ac SET vote_count = c.n FROM (SELECT category_id, count(*) n FROM votes GROUP BY 1) c
WHERE c.category_id = ac.id;

-- Volunteers beyond the voters, to 200,000 users at scale 1.
INSERT INTO users (email, display_name, email_verified_at)
SELECT 'volunteer' || g || '@bench.kz', 'Volunteer ' || g, now()
FROM generate_series(1, greatest(1, (180000 * :scale)::int)) g;

-- 200 applications per project by distinct users (the i-th of a project by the user
-- `i * step` places after the project's own offset), generated in project order so that the
-- indexes led by the project grow at their end; a third accepted, a sixth withdrawn.
SELECT min(id) AS p0, count(*) AS np FROM projects \gset
SELECT min(id) AS u0, count(*) AS nu FROM users \gset
INSERT INTO applications (project_id, volunteer_id, status, created_at, updated_at, decided_at)
SELECT :p0 + p, :u0 + (p * 7 + i * greatest(1, :nu / 200)) % :nu, s.status,
       now() - ((p + i) % 300 || ' hours')::interval, now() - ((p + i) % 300 || ' hours')::interval,
       CASE WHEN s.status IN ('ACCEPTED', 'DECLINED') THEN now() - ((p + i) % 200 || ' hours')::interval END
FROM generate_series(0, :np - 1) p, generate_series(0, 199) i,
     LATERAL (SELECT (ARRAY['ACCEPTED','SUBMITTED','DECLINED','ACCEPTED','SUBMITTED','WITHDRAWN'])[1 + (p + i) % 6] AS status) s
ON CONFLICT DO NOTHING;

UPDATE projects pr SET volunteer_count = c.n
FROM (SELECT project_id, count(*) n FROM applications WHERE status = 'ACCEPTED' GROUP BY 1) c
WHERE c.project_id = pr.id;

INSERT INTO posts (slug, organization_id, title, body, view_count, created_at, published_at)
SELECT 'bench-post-' || g, o.id,
       jsonb_build_object('kk', 'Жаңалық ' || g || ': волонтерлер жиыны', 'ru', 'Новость ' || g || ': сбор волонтёров', 'en', 'News ' || g),
       jsonb_build_object('kk', 'Жаңалықтың мәтіні', 'ru', 'Текст новости', 'en', 'The news'),
       abs(hashint4(g)) % 50000, now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
FROM generate_series(1, greatest(1, (10000 * :scale)::int)) g
JOIN organizations o ON o.slug = 'bench-org-' || (1 + g % greatest(1, (200 * :scale)::int));

INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at, last_digest_at)
SELECT 'subscriber' || g || '@bench.kz', (ARRAY['kk','ru','en'])[1 + g % 3], '{WEEKLY_DIGEST,AWARD_UPDATES}', 'ACTIVE',
       now() - interval '10 days', now() - interval '7 days'
FROM generate_series(1, greatest(1, (100000 * :scale)::int)) g;
DO $$ BEGIN PERFORM platform_recount(); END $$;
COMMIT;

ALTER TABLE applications SET LOGGED;
ALTER TABLE votes SET LOGGED;
ALTER TABLE vote_events SET LOGGED;
ALTER TABLE email_subscriptions SET LOGGED;
-- VACUUM too, not only ANALYZE: it sets the visibility map that autovacuum keeps on a database
-- in use, so a count over an index (a manager's applications per project) reads the index alone.
-- Without it every counted row visited the heap: the manager path's p99 was ~480 ms from that.
VACUUM ANALYZE;
