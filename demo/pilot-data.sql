-- Pilot data (deterministic; ids 1..N). Every reference stays inside one account, so moving an
-- account with everything that follows it keeps all foreign keys intact.
--   accounts  40  (ids 1..40); every 8th (8, 16, 24, 32, 40) is a test account:
--                 name 'Test …' and is_test = true  ->  35 real accounts
--   users    200  (ids 1..200);  user u belongs to account ((u-1) % 40) + 1
--   projects 120  (ids 1..120);  project p belongs to account ((p-1) % 40) + 1, owned by one of its users
--   events  5000  (ids 1..5000); event e is on project ((e-1) % 120) + 1, by a user of that
--                 project's account (every 97th event has no user: a system event)
BEGIN;

INSERT INTO accounts (account_id, name, plan, is_test, created_at)
SELECT i,
       CASE WHEN i % 8 = 0 THEN format('Test account %s', i) ELSE format('Customer %s Ltd', i) END,
       (ARRAY['free', 'team', 'business', 'enterprise'])[1 + i % 4],
       i % 8 = 0,
       timestamptz '2025-01-01 09:00:00+00' + i * interval '1 day'
FROM generate_series(1, 40) AS i;

INSERT INTO users (user_id, account_id, email, full_name, created_at)
SELECT u,
       ((u - 1) % 40) + 1,
       -- every tenth address typed in capitals: the plan's lower() transform normalises it
       CASE WHEN u % 10 = 0 THEN upper(format('user%s@account%s.example', u, ((u - 1) % 40) + 1))
            ELSE format('user%s@account%s.example', u, ((u - 1) % 40) + 1) END,
       format('User %s', u),
       timestamptz '2025-02-01 09:00:00+00' + u * interval '3 hours'
FROM generate_series(1, 200) AS u;

-- owner: account a has users a, a+40, a+80, a+120, a+160; project p picks a + 40 * ((p-1) / 40).
INSERT INTO projects (project_id, account_id, owner_id, name, settings)
SELECT p,
       ((p - 1) % 40) + 1,
       ((p - 1) % 40) + 1 + 40 * ((p - 1) / 40),
       format('Project %s', p),
       jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[1 + p % 3],
                          'public', p % 5 = 0,
                          'retentionDays', 30 * (1 + p % 4))
FROM generate_series(1, 120) AS p;

-- user of event e: account of its project + 40 * (e % 5)  (a user of the same account).
INSERT INTO events (event_id, project_id, user_id, kind, payload, at)
SELECT e,
       ((e - 1) % 120) + 1,
       CASE WHEN e % 97 = 0 THEN NULL ELSE ((((e - 1) % 120) + 1 - 1) % 40) + 1 + 40 * (e % 5) END,
       (ARRAY['login', 'view', 'edit', 'comment', 'export', 'share'])[1 + e % 6],
       jsonb_build_object('seq', e, 'client', (ARRAY['web', 'ios', 'android'])[1 + e % 3]),
       timestamptz '2025-03-01 00:00:00+00' + e * interval '7 minutes'
FROM generate_series(1, 5000) AS e;

COMMIT;
ANALYZE;
