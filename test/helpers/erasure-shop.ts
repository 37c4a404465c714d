// The shop both erasure tests run on (test/erasure.test.ts, test/erasure-replay.test.ts): customers
// with orders, order lines and reviews, an erasure register on each side, and Production's own rows
// (customers 1–3, so the Pilot's get new ids from 4) and an unrelated table `hold`.
export const SCHEMA = `
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE orders (order_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric NOT NULL);
CREATE TABLE order_line (line_id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, sku text NOT NULL);
CREATE TABLE review (review_id serial PRIMARY KEY, customer_id int REFERENCES customer, body text, stars int NOT NULL);
CREATE TABLE erasure_request (customer_id int NOT NULL, at timestamptz NOT NULL DEFAULT now());
`;
export const PILOT =
  SCHEMA +
  `
INSERT INTO customer (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 6) g;
INSERT INTO orders (customer_id, total) SELECT 1 + (g % 6), g FROM generate_series(1, 12) g;
INSERT INTO order_line (order_id, sku) SELECT 1 + (g % 12), 'sku-' || g FROM generate_series(1, 24) g;
INSERT INTO review (customer_id, body, stars) SELECT g, 'review by ' || g, 1 + g % 5 FROM generate_series(1, 6) g;
INSERT INTO erasure_request (customer_id) VALUES (6);
`;
// Production's own customers take ids 1–3: the Pilot's customers get 4… there.
export const PRODUCTION =
  SCHEMA +
  `
INSERT INTO customer (email, name) VALUES ('p1@prod.example', 'P1'), ('p2@prod.example', 'P2'), ('p3@prod.example', 'P3');
INSERT INTO orders (customer_id, total) VALUES (1, 10), (2, 20);
INSERT INTO order_line (order_id, sku) VALUES (1, 'prod-a'), (2, 'prod-b');
INSERT INTO review (customer_id, body, stars) VALUES (1, 'prod review', 5);
CREATE TABLE hold (why text);
`;
