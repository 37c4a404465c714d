-- Production data that already exists before the cutover (deterministic). Ids live in a disjoint
-- high range (100001+), so the Pilot rows can keep their ids (ids: keep) without colliding.
--   accounts 10 (100001..100010), users 30, projects 20, events 500; references stay in-account.
BEGIN;

INSERT INTO accounts (account_id, name, plan, is_test, created_at)
SELECT 100000 + i, format('Production customer %s', i),
       (ARRAY['team', 'business', 'enterprise'])[1 + i % 3], false,
       timestamptz '2024-06-01 09:00:00+00' + i * interval '1 week'
FROM generate_series(1, 10) AS i;

-- user u belongs to account 100000 + ((u-1) % 10) + 1
INSERT INTO users (user_id, account_id, email, full_name, created_at)
SELECT 100000 + u, 100000 + ((u - 1) % 10) + 1,
       format('prod%s@customer%s.example', u, ((u - 1) % 10) + 1),
       format('Production user %s', u),
       timestamptz '2024-07-01 09:00:00+00' + u * interval '1 day'
FROM generate_series(1, 30) AS u;

-- project p belongs to account 100000 + ((p-1) % 10) + 1, owned by user with the same offset
INSERT INTO projects (project_id, account_id, owner_id, name, settings)
SELECT 100000 + p, 100000 + ((p - 1) % 10) + 1, 100000 + ((p - 1) % 10) + 1,
       format('Production project %s', p),
       jsonb_build_object('color', 'grey', 'public', false, 'retentionDays', 365)
FROM generate_series(1, 20) AS p;

-- event e is on project 100000 + ((e-1) % 20) + 1, by a user of that project's account
INSERT INTO events (event_id, project_id, user_id, kind, payload, at)
SELECT 100000 + e, 100000 + ((e - 1) % 20) + 1,
       100000 + ((((e - 1) % 20) + 1 - 1) % 10) + 1 + 10 * (e % 3),
       (ARRAY['login', 'view', 'edit'])[1 + e % 3],
       jsonb_build_object('seq', e, 'client', 'web'),
       timestamptz '2024-08-01 00:00:00+00' + e * interval '1 hour'
FROM generate_series(1, 500) AS e;

COMMIT;
ANALYZE;
