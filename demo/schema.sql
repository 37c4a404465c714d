-- Demo schema: a small multi-tenant SaaS. Loaded into both cutover_demo_pilot and
-- cutover_demo_production by scripts/demo-db.sh. Plain bigint keys (no sequences): the demo plan
-- keeps ids (ids: keep), and the two databases use disjoint id ranges.
CREATE TABLE accounts (
  account_id bigint PRIMARY KEY,
  name       text NOT NULL,
  plan       text,
  is_test    boolean DEFAULT false,
  created_at timestamptz DEFAULT now()
);

CREATE TABLE users (
  user_id    bigint PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts,
  email      text NOT NULL,
  full_name  text,
  created_at timestamptz
);
CREATE INDEX users_account_id_idx ON users (account_id);

CREATE TABLE projects (
  project_id bigint PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts,
  owner_id   bigint REFERENCES users,
  name       text NOT NULL,
  settings   jsonb
);
CREATE INDEX projects_account_id_idx ON projects (account_id);
CREATE INDEX projects_owner_id_idx ON projects (owner_id);

CREATE TABLE events (
  event_id   bigint PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects,
  user_id    bigint REFERENCES users,
  kind       text NOT NULL,
  payload    jsonb,
  at         timestamptz NOT NULL
);
CREATE INDEX events_project_id_idx ON events (project_id);
CREATE INDEX events_user_id_idx ON events (user_id);
